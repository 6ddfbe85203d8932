package router

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"

	"github.com/auditbus/auditbus/router/auth"
)

// limitListener bounds the API's connections, so a flood of idle or slow
// connections costs bounded memory and cannot shut clients out:
//   - at most n at once: Accept waits for a slot, leaving the rest in the
//     kernel's backlog, and when none is free it first closes a keep-alive
//     connection idle between requests (its client reconnects, as HTTP
//     clients do for an idle connection the server closed);
//   - at most perClient from one address (an IPv6 client's /64, as
//     auth.AddrKey keys it): more are closed as accepted.
//
// The http.Server must report connection states to connState.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
	perClient int

	mu       sync.Mutex
	byClient map[string]int
	idle     map[*limitConn]struct{}
}

func newLimitListener(l net.Listener, n, perClient int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), closed: make(chan struct{}),
		perClient: perClient, byClient: map[string]int{}, idle: map[*limitConn]struct{}{}}
}

// Close also ends an Accept waiting for a slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		if err := l.acquire(); err != nil {
			return nil, err
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// acquire takes a slot, reclaiming an idle connection's when all are taken.
func (l *limitListener) acquire() error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	l.closeIdle()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-l.closed:
		return net.ErrClosed
	}
}

// admit wraps c, or closes it (freeing its slot) when its address is at
// its limit.
func (l *limitListener) admit(c net.Conn) *limitConn {
	client := auth.AddrKey(c.RemoteAddr().String())
	l.mu.Lock()
	if l.byClient[client] >= l.perClient {
		l.mu.Unlock()
		c.Close()
		<-l.slots
		return nil
	}
	l.byClient[client]++
	l.mu.Unlock()
	lc := &limitConn{Conn: c}
	lc.release = sync.OnceFunc(func() {
		l.mu.Lock()
		delete(l.idle, lc)
		if l.byClient[client]--; l.byClient[client] == 0 {
			delete(l.byClient, client)
		}
		l.mu.Unlock()
		<-l.slots
	})
	return lc
}

// closeIdle closes one connection idle between requests, if there is one.
func (l *limitListener) closeIdle() {
	l.mu.Lock()
	var victim *limitConn
	for c := range l.idle {
		victim = c
		delete(l.idle, c)
		break
	}
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
}

// connState is the http.Server's ConnState hook: it tracks which
// connections sit idle between requests.
func (l *limitListener) connState(c net.Conn, state http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, ok := c.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if state == http.StateIdle {
		l.idle[lc] = struct{}{}
	} else {
		delete(l.idle, lc)
	}
}

type limitConn struct {
	net.Conn
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
