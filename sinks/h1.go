package sinks

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"
)

// h1Transport is an HTTP/1.1 round tripper that runs each exchange in the
// caller's goroutine: write the request, read the response, on a kept
// connection. net/http's Transport hands each request to two goroutines
// per connection (its read and write loops) and back through channels:
// at 10 targets that was a fifth of a delivery's CPU. It speaks only what
// a delivery needs: no proxies (Guard.Client says why), no HTTP/2, no
// redirects (the client's CheckRedirect never follows one); the wire
// format is net/http's own (Request.Write, ReadResponse).
type h1Transport struct {
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	tls     *tls.Config
	maxIdle int           // per scheme and host
	idleFor time.Duration // a connection idle longer is closed, not reused
	timeout time.Duration // bounds each request, body included; 0: none

	mu   sync.Mutex
	idle map[string][]*h1Conn // by scheme://host:port, the most recent last
}

var _ http.RoundTripper = (*h1Transport)(nil)

// h1Conn is one kept connection.
type h1Conn struct {
	net.Conn
	key    string
	br     *bufio.Reader
	bw     *bufio.Writer
	expiry *time.Timer // closes it once idle for idleFor
}

// aLongTimeAgo is a deadline that interrupts a blocked read or write.
var aLongTimeAgo = time.Unix(1, 0)

// RoundTrip sends req on a kept or a new connection, within the
// transport's timeout (which covers reading the body too). A request
// whose kept connection turned out closed by the server (it wrote no byte
// back) is sent again once on a new connection, as net/http does.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	cancel := context.CancelFunc(func() {})
	if t.timeout > 0 {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(req.Context(), t.timeout)
		req = req.WithContext(ctx) // a copy: the body may be replaced below
	}
	resp, err := t.roundTrip(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body.(*h1Body).cancel = cancel
	return resp, nil
}

func (t *h1Transport) roundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, closeBody(req, fmt.Errorf("unsupported protocol scheme %q", req.URL.Scheme))
	}
	key := req.URL.Scheme + "://" + hostPort(req)
	for fresh := false; ; fresh = true {
		c, reused, err := t.conn(req.Context(), key, req, fresh)
		if err != nil {
			return nil, closeBody(req, err)
		}
		resp, err := t.exchange(c, req)
		if err == nil {
			return resp, nil
		}
		c.Close()
		var gone closedIdle
		if !reused || !errors.As(err, &gone) || req.Context().Err() != nil {
			return nil, closeBody(req, err)
		}
		if req.Body != nil {
			if req.GetBody == nil {
				return nil, err // the body was sent and cannot be read again
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("reading the request body again: %w", err)
			}
			req = req.WithContext(req.Context()) // a copy, not the caller's request
			req.Body = body
		}
	}
}

// closedIdle is an exchange on a kept connection that the server had
// closed meanwhile: the request may be sent again.
type closedIdle struct{ error }

func (e closedIdle) Unwrap() error { return e.error }

func closeBody(req *http.Request, err error) error {
	if req.Body != nil {
		req.Body.Close()
	}
	return err
}

// hostPort is req's host with the scheme's default port when it names
// none.
func hostPort(req *http.Request) string {
	if req.URL.Port() != "" {
		return req.URL.Host
	}
	port := "80"
	if req.URL.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(req.URL.Hostname(), port)
}

// conn returns a kept connection for key (the most recently used, whose
// server is the least likely to have closed it) unless fresh, else dials
// one.
func (t *h1Transport) conn(ctx context.Context, key string, req *http.Request, fresh bool) (*h1Conn, bool, error) {
	if !fresh {
		if c := t.take(key); c != nil {
			return c, true, nil
		}
	}
	raw, err := t.dial(ctx, "tcp", key[len(req.URL.Scheme)+3:])
	if err != nil {
		return nil, false, err
	}
	if req.URL.Scheme == "https" {
		cfg := t.tls.Clone()
		cfg.ServerName, cfg.NextProtos = req.URL.Hostname(), []string{"http/1.1"}
		tc := tls.Client(raw, cfg)
		hctx, cancel := context.WithTimeout(ctx, guardTLSHandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return nil, false, err
		}
		raw = tc
	}
	return &h1Conn{Conn: raw, key: key, br: bufio.NewReader(raw), bw: bufio.NewWriter(raw)}, false, nil
}

func (t *h1Transport) take(key string) *h1Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	conns := t.idle[key]
	if len(conns) == 0 {
		return nil
	}
	c := conns[len(conns)-1]
	t.idle[key] = conns[:len(conns)-1]
	c.expiry.Stop() // an expire that fired already waits for the lock, then finds c gone
	return c
}

// put keeps c for the next request, unless enough are kept; one kept
// for idleFor without a request is closed.
func (t *h1Transport) put(c *h1Conn) {
	t.mu.Lock()
	if t.idle == nil {
		t.idle = map[string][]*h1Conn{}
	}
	conns := t.idle[c.key]
	keep := len(conns) < t.maxIdle
	if keep {
		t.idle[c.key] = append(conns, c)
		if c.expiry == nil {
			c.expiry = time.AfterFunc(t.idleFor, func() { t.expire(c) })
		} else {
			c.expiry.Reset(t.idleFor)
		}
	}
	t.mu.Unlock()
	if !keep {
		c.Close()
	}
}

// expire closes c if it is still kept, idle for idleFor.
func (t *h1Transport) expire(c *h1Conn) {
	t.mu.Lock()
	conns := t.idle[c.key]
	i := slices.Index(conns, c)
	if i >= 0 {
		t.idle[c.key] = slices.Delete(conns, i, i+1)
	}
	t.mu.Unlock()
	if i >= 0 {
		c.Close()
	}
}

// CloseIdleConnections closes every kept connection; those in use are
// kept or closed as their exchange ends.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			c.expiry.Stop()
			c.Close()
		}
	}
}

// exchange writes req on c and reads the response's head. The context
// interrupts either by moving c's deadline, so no goroutine waits beside
// the caller. The body it returns gives c back once read to its end.
func (t *h1Transport) exchange(c *h1Conn, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	// The context's end, not its deadline set on c: the error is then
	// the context's, as net/http's. Only this ever sets c's deadline, and
	// a connection it interrupted is not kept (h1Body.Close).
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	resp, err := t.writeAndRead(c, req)
	if err != nil {
		stop()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, err
	}
	resp.Body = &h1Body{ReadCloser: resp.Body, c: c, t: t, stop: stop, cancel: func() {}, keep: !resp.Close && !req.Close}
	return resp, nil
}

func (t *h1Transport) writeAndRead(c *h1Conn, req *http.Request) (*http.Response, error) {
	if err := req.Write(c.bw); err != nil {
		return nil, closedIdle{err} // req.Write closed the body; GetBody gives it again
	}
	if err := c.bw.Flush(); err != nil {
		return nil, closedIdle{err}
	}
	if _, err := c.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return nil, closedIdle{fmt.Errorf("server closed the connection: %w", err)}
		}
		return nil, err
	}
	for {
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
}

// h1Body is a response body that gives its connection back to the
// transport when read to its end and closed, and closes it when closed
// before.
type h1Body struct {
	io.ReadCloser
	c      *h1Conn
	t      *h1Transport
	stop   func() bool
	cancel context.CancelFunc // the timeout's, once the body is done
	keep   bool
	eof    bool
	once   sync.Once
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

func (b *h1Body) Close() error {
	b.once.Do(func() {
		defer b.cancel()
		if !b.eof {
			b.c.Close() // else ReadCloser.Close reads the rest first, however long
		}
		err := b.ReadCloser.Close()
		if b.stop() && b.keep && b.eof && err == nil && b.c.br.Buffered() == 0 {
			b.t.put(b.c)
			return
		}
		b.c.Close()
	})
	return nil
}
