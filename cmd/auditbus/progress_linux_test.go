package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/auditbus/auditbus/router"
)

// openPTY opens a pseudo-terminal pair: what is written to slave, a
// terminal to whoever holds it, is read from master.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// runOnTerminal runs the CLI with stderr on a pseudo-terminal and returns
// the exit code, stdout and what the terminal showed.
func runOnTerminal(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	master, slave := openPTY(t)
	shown := make(chan string)
	go func() {
		var b bytes.Buffer
		_, _ = io.Copy(&b, master) // ends with EIO once the slave is closed
		shown <- b.String()
	}()
	var stdout bytes.Buffer
	code := run(context.Background(), args, &stdout, slave)
	slave.Close()
	return code, stdout.String(), <-shown
}

// runOnPipe runs the CLI with stderr on a pipe, as in a script.
func runOnPipe(t *testing.T, args ...string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		got <- string(b)
	}()
	code := run(context.Background(), args, io.Discard, w)
	w.Close()
	return code, <-got
}

// TestProgressOnlyOnTerminal: publish of a large file and search report
// progress on a terminal's stderr, and print nothing extra to a pipe.
func TestProgressOnlyOnTerminal(t *testing.T) {
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Log: zerolog.Nop(), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	var events strings.Builder
	for i := range 250 {
		fmt.Fprintf(&events, `{"specversion":"1.0","id":"e%d","source":"test","type":"t"}`+"\n", i)
	}
	file := writeFile(t, "many.ndjson", events.String())
	publish := []string{"publish", "--url", "http://" + srv.Addr(), "--batch", "100", "--file", file}
	code, out, shown := runOnTerminal(t, publish...)
	if code != 0 || !strings.Contains(shown, "\r\033[Ksent 250/250") || !strings.Contains(out, "published 250 events") {
		t.Errorf("publish on a terminal: exit %d, stdout %q, terminal %q", code, out, shown)
	}
	if code, errOut := runOnPipe(t, publish...); code != 0 || errOut != "" {
		t.Errorf("publish on a pipe: exit %d, stderr %q", code, errOut)
	}

	base, _ := searchServer(t)
	search := []string{"search", "--url", base, "--limit", "30"}
	code, out, shown = runOnTerminal(t, search...)
	if code != 0 || !strings.Contains(shown, "fetched 30 events") || strings.Count(out, "\n") != 31 {
		t.Errorf("search on a terminal: exit %d, stdout %q, terminal %q", code, out, shown)
	}
	if code, errOut := runOnPipe(t, search...); code != 0 || errOut != "" {
		t.Errorf("search on a pipe: exit %d, stderr %q", code, errOut)
	}
}
