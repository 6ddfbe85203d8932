package sinks

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestH1(idleFor time.Duration) *h1Transport {
	return &h1Transport{dial: (&net.Dialer{}).DialContext, tls: &tls.Config{MinVersion: tls.VersionTLS12},
		maxIdle: 100, idleFor: idleFor}
}

// countingServer is an httptest server that counts the connections it
// accepted and closed, and the requests it served.
type countingServer struct {
	*httptest.Server
	opened, closed, requests atomic.Int64
}

func newCountingServer(t *testing.T, h http.HandlerFunc, tlsOn bool) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if h != nil {
			h(w, r)
		}
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.closed.Add(1)
		}
	}
	if tlsOn {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// post sends body to url through rt, reads the whole answer and returns
// its status and body.
func post(t *testing.T, rt http.RoundTripper, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return resp.StatusCode, string(b)
}

// TestH1KeepsConnections: answers delimited by length or chunked leave
// their connection for the next request; one that says Connection: close,
// or whose body was closed unread, does not.
func TestH1KeepsConnections(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		partial bool // close the body after one byte
		want    int64
	}{
		{"length", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }, false, 1},
		{"chunked", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("one"))
			w.(http.Flusher).Flush()
			w.Write([]byte("two"))
		}, false, 1},
		{"empty", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, false, 1},
		{"connection close", func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("Connection", "close") }, false, 3},
		{"body left unread", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, strings.Repeat("x", 64<<10)) }, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newCountingServer(t, tc.h, false)
			rt := newTestH1(time.Minute)
			t.Cleanup(rt.CloseIdleConnections)
			for range 3 {
				req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader("event"))
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				if tc.partial {
					_, _ = resp.Body.Read(make([]byte, 1))
				} else if _, err := io.ReadAll(resp.Body); err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if got := s.opened.Load(); got != tc.want || s.requests.Load() != 3 {
				t.Fatalf("3 requests: %d connections opened, %d requests served; want %d and 3", got, s.requests.Load(), tc.want)
			}
		})
	}
}

// TestH1SendsAgainWhenTheServerClosedAKeptConnection: a kept connection
// the server closed meanwhile (its idle timeout) costs no failure: the
// request goes out again, once, on a new connection, body and all.
func TestH1SendsAgainWhenTheServerClosedAKeptConnection(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	t.Cleanup(s.Close)
	rt := newTestH1(time.Minute)
	t.Cleanup(rt.CloseIdleConnections)
	for i := range 3 {
		if status, _ := post(t, rt, s.URL, fmt.Sprint("event-", i)); status != http.StatusOK {
			t.Fatalf("request %d: status %d", i, status)
		}
		s.CloseClientConnections() // the kept connection is closed by the server
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(bodies) != "[event-0 event-1 event-2]" {
		t.Fatalf("the server got %q, want each event once", bodies)
	}
}

// TestH1DeadlineInterruptsAnAnswerThatHangs: the request's context ends
// an exchange the server never answers, with the context's error, and
// the connection is not kept.
func TestH1DeadlineInterruptsAnAnswerThatHangs(t *testing.T) {
	release := make(chan struct{})
	s := newCountingServer(t, func(http.ResponseWriter, *http.Request) { <-release }, false)
	defer close(release)
	rt := newTestH1(time.Minute)
	t.Cleanup(rt.CloseIdleConnections)
	for _, cancelled := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		if cancelled {
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader("event"))
		_, err := rt.RoundTrip(req)
		cancel()
		if want := map[bool]error{false: context.DeadlineExceeded, true: context.Canceled}[cancelled]; !errors.Is(err, want) {
			t.Fatalf("cancelled %v: err %v, want %v", cancelled, err, want)
		}
	}
	for key, conns := range rt.idle {
		if len(conns) > 0 {
			t.Fatalf("an interrupted connection was kept for %s", key)
		}
	}
}

// TestH1SkipsInformationalAnswers: a 100 Continue before the answer is
// read past.
func TestH1SkipsInformationalAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok")
	}()
	rt := newTestH1(time.Minute)
	t.Cleanup(rt.CloseIdleConnections)
	if status, body := post(t, rt, "http://"+ln.Addr().String(), "event"); status != http.StatusAccepted || body != "ok" {
		t.Fatalf("got %d %q, want 202 \"ok\"", status, body)
	}
}

// TestH1TLS: https targets get HTTP/1.1 over TLS, verified against the
// transport's roots, and keep their connection.
func TestH1TLS(t *testing.T) {
	var proto atomic.Value
	s := newCountingServer(t, func(_ http.ResponseWriter, r *http.Request) { proto.Store(r.Proto) }, true)
	rt := newTestH1(time.Minute)
	t.Cleanup(rt.CloseIdleConnections)
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader("event"))
	if _, err := rt.RoundTrip(req); err == nil {
		t.Fatal("a server certificate no root vouches for was accepted")
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	rt.tls = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	for range 2 {
		if status, _ := post(t, rt, s.URL, "event"); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	if proto.Load() != "HTTP/1.1" || s.opened.Load() != 2 { // the refused handshake's, and one kept
		t.Fatalf("proto %v, %d connections; want HTTP/1.1 over 2", proto.Load(), s.opened.Load())
	}
}

// TestH1ClosesConnectionsIdleTooLong: a kept connection unused for the
// idle time is closed, and no request finds it.
func TestH1ClosesConnectionsIdleTooLong(t *testing.T) {
	s := newCountingServer(t, nil, false)
	rt := newTestH1(50 * time.Millisecond)
	t.Cleanup(rt.CloseIdleConnections)
	post(t, rt, s.URL, "event")
	deadline := time.Now().Add(10 * time.Second)
	for s.closed.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the idle connection stayed open")
		}
		time.Sleep(10 * time.Millisecond)
	}
	post(t, rt, s.URL, "event")
	if s.opened.Load() != 2 {
		t.Fatalf("%d connections opened, want a new one after the idle one closed", s.opened.Load())
	}
}

// TestH1Timeout: the transport's timeout ends an answer that hangs with
// context.DeadlineExceeded, and one whose body stalls half-way too.
func TestH1Timeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Header().Set("Content-Length", "10")
			w.Write([]byte("half"))
			w.(http.Flusher).Flush()
		}
		<-release
	}, false)
	rt := newTestH1(time.Minute)
	rt.timeout = 200 * time.Millisecond
	t.Cleanup(rt.CloseIdleConnections)
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader("event"))
	if _, err := rt.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a hanging answer: err %v, want context.DeadlineExceeded", err)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/body", strings.NewReader("event"))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("a body that stalls was read to its end")
	}
}

// TestH1ClosingAnEndlessBodyReturns: closing a body read only in part
// drops its connection at once, rather than reading the rest first.
func TestH1ClosingAnEndlessBodyReturns(t *testing.T) {
	s := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		for r.Context().Err() == nil {
			if _, err := w.Write(make([]byte, 32<<10)); err != nil {
				return
			}
		}
	}, false)
	rt := newTestH1(time.Minute)
	rt.timeout = time.Minute
	t.Cleanup(rt.CloseIdleConnections)
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader("event"))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = resp.Body.Read(make([]byte, 1))
	closed := make(chan struct{})
	go func() { resp.Body.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("closing an endless body read it on")
	}
}
