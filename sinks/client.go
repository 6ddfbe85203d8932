package sinks

import (
	"net/http"
	"sync/atomic"
	"time"
)

// lazyClient is one target's HTTP client, made on its first request: a
// rule set of 100,000 targets, most of them idle, then holds no transport
// for those, and Check, which builds a sink only to validate its config,
// builds none. Each target still gets a transport of its own
// (Guard.Client says why).
type lazyClient struct {
	guard   *Guard
	timeout time.Duration
	c       atomic.Pointer[http.Client]
}

func newLazyClient(g *Guard, timeout time.Duration) *lazyClient {
	return &lazyClient{guard: g, timeout: timeout}
}

// get returns the client, making it on the first call. Two first calls
// at once may both make one; one is kept, the other, which never
// connected, is dropped.
func (l *lazyClient) get() *http.Client {
	if c := l.c.Load(); c != nil {
		return c
	}
	l.c.CompareAndSwap(nil, l.guard.Client(l.timeout))
	return l.c.Load()
}

// closeIdle releases the idle connections of a client made already.
func (l *lazyClient) closeIdle() {
	if c := l.c.Load(); c != nil {
		c.CloseIdleConnections()
	}
}
