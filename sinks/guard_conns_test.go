package sinks_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A target's connections are kept for its next burst, however high its
// concurrency (up to rules.MaxConcurrency): net/http closes what exceeds
// MaxIdleConnsPerHost when a request ends, and every burst above it then
// dialled as many connections again.
func TestGuardClientKeepsEveryConnectionOfABurst(t *testing.T) {
	const burst = 64
	var opened atomic.Int64
	var gate atomic.Pointer[chan struct{}]
	var inFlight sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		g := gate.Load()
		inFlight.Done()
		<-*g
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := loopback.Client(10 * time.Second)
	t.Cleanup(c.CloseIdleConnections)
	for round := range 2 {
		g := make(chan struct{})
		gate.Store(&g)
		inFlight.Add(burst)
		var done sync.WaitGroup
		for range burst {
			done.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		inFlight.Wait() // the whole burst is in flight at once
		close(g)
		done.Wait()
		if got := opened.Load(); got != burst {
			t.Fatalf("after burst %d of %d concurrent requests: %d connections opened, want %d (the second burst reusing the first's)", round+1, burst, got, burst)
		}
	}
}
