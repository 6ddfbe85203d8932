package kubernetes

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel SIGKILL cmd's process when the test process
// dies, so a test that panics (a -timeout) leaves no auditbus
// running. Linux ties this to the thread that started cmd, which
// outlives it in practice: the Go runtime does not end threads of
// goroutines that were not locked to them.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
