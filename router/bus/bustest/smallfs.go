package bustest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// inUserNS marks a test binary that SmallFS started again inside a user
// and mount namespace of its own.
const inUserNS = "AUDITBUS_TEST_IN_USERNS"

// SmallFS mounts a tmpfs of size bytes on a new temporary directory, for
// tests that need a real filesystem to run out of space, and unmounts it at
// cleanup. As root (CI) it mounts directly. Otherwise it runs this test
// again in a binary started with `unshare -rm` (root of a user namespace
// with a mount namespace of its own, where a tmpfs may be mounted) and
// returns ok false: the caller returns, and this test passes or fails with
// that run. It never skips: when nothing can mount, the test fails saying
// what was tried.
func SmallFS(t *testing.T, size int64) (dir string, ok bool) {
	t.Helper()
	dir = t.TempDir()
	err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d", size))
	if err == nil {
		t.Cleanup(func() {
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Errorf("unmount the test's tmpfs %s: %v", dir, err)
			}
		})
		return dir, true
	}
	if os.Getenv(inUserNS) != "" {
		t.Fatalf("mount a %d-byte tmpfs on %s inside `unshare -rm`: %v", size, dir, err)
	}
	cmd := exec.Command("unshare", "-rm", "--", os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), inUserNS+"=1")
	out, rerr := cmd.CombinedOutput()
	t.Logf("mount as uid %d: %v; ran the test again under `unshare -rm`:\n%s", os.Geteuid(), err, out)
	if rerr == nil && !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		rerr = fmt.Errorf("it did not report %s passed", t.Name())
	}
	if rerr != nil {
		t.Fatalf("this test needs a small real filesystem: mounting a tmpfs failed (%v) and so did the run under `unshare -rm` (%v): run it as root, or where unprivileged user namespaces are allowed", err, rerr)
	}
	return "", false
}
