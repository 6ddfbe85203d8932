package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/console/consoletest"
)

// dlqReaderToken may read the DLQ but not redrive it.
const dlqReaderToken = "abt_console-dlq-reader-token"

// withDLQReader adds the dlq-reader identity to consoletest's auth file.
func withDLQReader(t *testing.T) func(*router.Config) {
	return func(c *router.Config) {
		b, err := os.ReadFile(c.AuthFile)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, fmt.Sprintf("  - name: dlq-reader\n    tokens: [%q]\n    actions: [dlq:read]\n", auth.HashToken(dlqReaderToken))...)
		p := filepath.Join(t.TempDir(), "auth.yaml")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c.AuthFile = p
	}
}

// deadLettered starts auditbus with a rule whose target refuses every
// delivery, and publishes one event it dead-letters.
func deadLettered(t *testing.T) *consoletest.Router {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	t.Cleanup(hook.Close)
	r := consoletest.Start(t, consoletest.Options{Rules: []string{hookRule(hook.URL)}, Mutate: withDLQReader(t)})
	publishOn(t, r, "default", testEvent("dead-1", "console.test.match"))
	return r
}

// TestRedriveRefusals: a redrive without the session's CSRF token, from
// another site, or by an identity without dlq:redrive changes nothing.
func TestRedriveRefusals(t *testing.T) {
	r := deadLettered(t)
	admin := client(t)
	csrf := signIn(t, admin, r, consoletest.AdminToken)
	reader := client(t)
	readerCSRF := signIn(t, reader, r, dlqReaderToken)
	tests := []struct {
		name   string
		c      *http.Client
		header http.Header
		body   url.Values
		status int
		want   string
	}{
		{"no CSRF token", admin, form, url.Values{"ids": {"1"}}, http.StatusForbidden, "CSRF token is missing or stale"},
		{"wrong CSRF token", admin, form, url.Values{"ids": {"1"}, "csrf": {"x" + csrf}}, http.StatusForbidden, "CSRF token is missing or stale"},
		{"another site", admin, http.Header{"Content-Type": form["Content-Type"], "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
			url.Values{"ids": {"1"}, "csrf": {csrf}}, http.StatusForbidden, "came from another site"},
		{"without dlq:redrive", reader, form, url.Values{"ids": {"1"}, "csrf": {readerCSRF}}, http.StatusForbidden, "<code>dlq:redrive</code>"},
		{"no ids", admin, form, url.Values{"csrf": {csrf}}, http.StatusBadRequest, "Choose the dead letters"},
		{"a bad id", admin, form, url.Values{"csrf": {csrf}, "ids": {"one"}}, http.StatusBadRequest, `Dead letter &#34;one&#34;`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := call(t, tt.c, http.MethodPost, r.Console+"dlq/redrive", tt.header, tt.body.Encode())
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%d, want %d with %q in:\n%s", status, tt.status, tt.want, body)
			}
		})
	}
	waitLetters(t, reader, r, 1)
	_, _, page := call(t, reader, http.MethodGet, r.Console+"dlq", nil, "")
	if strings.Contains(page, `action="/console/dlq/redrive"`) {
		t.Error("the DLQ page offers a redrive to an identity without dlq:redrive")
	}
}

// waitLetters reads the DLQ page until it lists n dead letters.
func waitLetters(t *testing.T, c *http.Client, r *consoletest.Router, n int) string {
	t.Helper()
	for {
		_, _, page := call(t, c, http.MethodGet, r.Console+"dlq", nil, "")
		if strings.Count(page, `<tr id="letter-`) == n {
			return page
		}
	}
}

// TestPagesBusLimits: an identity limited to bus prod is refused bus
// default on the tail, search and DLQ pages, and without a bus sees only
// prod's events.
func TestPagesBusLimits(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	prod := client(t)
	signIn(t, prod, r, consoletest.ProdToken)
	for _, path := range []string{"tail?bus=default", "tail/stream?bus=default", "search?bus=default", "dlq?bus=default"} {
		status, _, body := call(t, prod, http.MethodGet, r.Console+path, nil, "")
		if status != http.StatusForbidden || !strings.Contains(body, "default") {
			t.Errorf("%s: %d %s, want 403 naming bus default", path, status, body)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.Console+"tail/stream", nil)
	resp, err := prod.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	publishOn(t, r, "default", testEvent("on-default", "console.test.match"))
	publishOn(t, r, "prod", testEvent("on-prod", "console.test.match"))
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "on-default") {
			t.Fatal("the tail of an identity limited to prod shows an event of bus default")
		}
		if strings.Contains(line, "on-prod") {
			break
		}
	}

	for {
		_, _, page := call(t, prod, http.MethodGet, r.Console+"search?type=console.test.match", nil, "")
		if strings.Contains(page, "on-default") {
			t.Fatal("search by an identity limited to prod finds an event of bus default")
		}
		if strings.Contains(page, "on-prod") {
			break
		}
	}
}

// TestTailRefusesBadPattern: the stream of a pattern that does not
// compile is refused with the problem, positioned.
func TestTailRefusesBadPattern(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	c := client(t)
	signIn(t, c, r, consoletest.AdminToken)
	status, _, body := call(t, c, http.MethodGet, r.Console+"tail/stream?"+url.Values{"pattern": {"type: tke"}}.Encode(), nil, "")
	if status != http.StatusBadRequest || !strings.Contains(body, "pattern:1:") {
		t.Errorf("%d %s, want 400 with the problem at pattern:1:", status, body)
	}
	status, _, body = call(t, c, http.MethodGet, r.Console+"tail?"+url.Values{"pattern": {"type: tke"}}.Encode(), nil, "")
	if status != http.StatusBadRequest || !strings.Contains(body, `id="problems"`) {
		t.Errorf("tail page: %d, want 400 with the problems listed:\n%s", status, body)
	}
}

// TestTailEndsWithPage: the tail's consumer lives as long as its page:
// when the browser goes away, the stream's consumer is deleted.
func TestTailEndsWithPage(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	js, err := jetstream.New(r.NATS())
	if err != nil {
		t.Fatal(err)
	}
	consumers := func() int {
		st, err := js.Stream(context.Background(), bus.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		return st.CachedInfo().State.Consumers
	}
	before := consumers()
	c := client(t)
	signIn(t, c, r, consoletest.AdminToken)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.Console+"tail/stream", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if n := consumers(); n != before+1 {
		t.Errorf("%d consumers while the tail is open, want %d", n, before+1)
	}
	cancel()
	resp.Body.Close()
	for consumers() != before {
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTailEndsAtShutdown: an open tail does not hold the server's
// shutdown (a stream is never idle): Stop ends it and completes.
func TestTailEndsAtShutdown(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	c := client(t)
	signIn(t, c, r, consoletest.AdminToken)
	resp, err := c.Get(r.Console + "tail/stream")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Errorf("stop with a tail open: %v", err)
	}
}
