package router_test

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestChildReportsTakenPort: the cluster tests choose ports, close them
// and let their children bind them (again on a restart); when another
// process takes one meanwhile, the child's exit is reported with its bind
// error instead of a readiness wait running out.
func TestChildReportsTakenPort(t *testing.T) {
	bin := buildBinary(t, t.TempDir(), "auditbus", "github.com/auditbus/auditbus/cmd/auditbus")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := newServeProc(t, "auditbus", bin, "--nats-listen", "-")
	s.addr = ln.Addr().String()
	s.args[2] = s.addr // serve --listen <addr>
	s.start(t)
	var exit error
	waitWithin(t, time.Minute, "auditbus to exit on the taken port", func() (bool, string) {
		exit = s.exited()
		return exit != nil, s.out.String()
	})
	for _, want := range []string{"its port was taken by another process", "address already in use", s.addr} {
		if !strings.Contains(exit.Error(), want) {
			t.Errorf("exit reported as %q, want it to name %q", exit, want)
		}
	}
}
