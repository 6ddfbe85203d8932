package router

import (
	"errors"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

func dialN(t *testing.T, addr string, n int) {
	t.Helper()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
}

// acceptAsync runs one Accept, reporting its connection (nil on error).
func acceptAsync(ln net.Listener) chan net.Conn {
	out := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		out <- c
	}()
	return out
}

// notYet fails if ch delivers within a short while: a negative check (an
// early delivery is a bug whatever the machine's speed).
func notYet(t *testing.T, ch chan net.Conn, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatal(what)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestLimitListenerSlots: with one slot, a second connection is not
// accepted until the first closes (twice closing frees one slot), and
// Close ends an Accept waiting for a slot.
func TestLimitListenerSlots(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 1, 10)
	dialN(t, inner.Addr().String(), 2)
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	second := acceptAsync(ln)
	notYet(t, second, "a second connection was accepted while the only slot was taken")
	first.Close()
	first.Close()
	c := <-second
	if c == nil {
		t.Fatal("the second connection was not accepted after the first closed")
	}
	c.Close()
	if n := len(ln.slots); n != 0 {
		t.Errorf("%d slots taken after every connection closed", n)
	}
	ln.slots <- struct{}{}
	waiting := acceptAsync(ln)
	ln.Close()
	if c := <-waiting; c != nil {
		t.Error("Accept waiting for a slot returned a connection after Close")
	}
}

// TestLimitListenerReclaimsIdle: when every slot is taken, a connection
// idle between requests is closed to make room; a busy one is not.
func TestLimitListenerReclaimsIdle(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 1, 10)
	defer ln.Close()
	dialN(t, inner.Addr().String(), 2)
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ln.connState(first, http.StateActive)
	second := acceptAsync(ln)
	notYet(t, second, "a busy connection was reclaimed")
	ln.connState(first, http.StateIdle)
	// The waiting Accept reclaims only on its next try: the next slot
	// request, here the second dial's Accept after this one.
	first.Close()
	if c := <-second; c == nil {
		t.Fatal("not accepted")
	} else {
		ln.connState(c, http.StateIdle)
		dialN(t, inner.Addr().String(), 1)
		third, err := ln.Accept()
		if err != nil {
			t.Fatalf("an idle connection was not reclaimed for a new one: %v", err)
		}
		if _, err := c.Write([]byte("x")); err == nil {
			t.Error("the reclaimed connection is still open")
		}
		third.Close()
	}
}

// TestLimitListenerPerClient: one address's connections beyond its limit
// are closed as accepted.
func TestLimitListenerPerClient(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 10, 2)
	defer ln.Close()
	var clients []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	for range 2 {
		if _, err := ln.Accept(); err != nil {
			t.Fatal(err)
		}
	}
	third := acceptAsync(ln)
	notYet(t, third, "a third connection of one address was accepted with a limit of 2")
	clients[2].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := clients[2].Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the third connection was not closed: %v", err)
	}
}
