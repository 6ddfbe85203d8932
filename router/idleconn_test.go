package router_test

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router"
)

// TestIdleConnectionsLockNobodyOut: a client holding every one of
// --max-connections as idle keep-alive connections (each after one public
// GET) does not shut another client out: an idle one is closed to make
// room (found in review: before, for IdleTimeout, renewable).
func TestIdleConnectionsLockNobodyOut(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile, c.MaxConnections = writeAuthFile(t, ""), 4 })
	for range 4 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // keep the connection open and idle
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + s.Addr() + "/healthz")
	if err != nil {
		t.Fatalf("a legitimate client is locked out by 4 idle connections: %v", err)
	}
	resp.Body.Close()
}
