package router

import (
	"net"
	"testing"
	"time"
)

func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.3.4.5:1": true, "[::1]:8080": true, "localhost:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "10.0.0.1:8080": false,
		"auditbus.example:8080": false, "garbage": false,
	} {
		if got := loopbackOnly(addr); got != want {
			t.Errorf("loopbackOnly(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestLimitListener: with one slot, a second connection is not accepted
// until the first closes, and Close ends an Accept waiting for a slot.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 1)
	defer ln.Close()
	for range 2 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	select {
	case <-accepted:
		t.Fatal("a second connection was accepted while the only slot was taken")
	case <-time.After(100 * time.Millisecond):
	}
	first.Close()
	first.Close() // a second Close must not free a second slot
	second, ok := <-accepted
	if !ok {
		t.Fatal("the second connection was not accepted after the first closed")
	}
	ln2 := newLimitListener(must(net.Listen("tcp", "127.0.0.1:0")), 1)
	ln2.(*limitListener).slots <- struct{}{} // full
	done := make(chan error, 1)
	go func() { _, err := ln2.Accept(); done <- err }()
	ln2.Close()
	if err := <-done; err == nil {
		t.Error("Accept waiting for a slot returned no error after Close")
	}
	second.Close()
	if len(ln.(*limitListener).slots) != 0 {
		t.Errorf("%d slots still taken after every connection closed", len(ln.(*limitListener).slots))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
