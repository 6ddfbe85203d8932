package console

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/api"
)

// cancelAfter is a response writer that ends its stream once it holds
// want.
type cancelAfter struct {
	*httptest.ResponseRecorder
	want   string
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(b []byte) (int, error) {
	n, err := w.ResponseRecorder.Write(b)
	if strings.Contains(w.Body.String(), w.want) {
		w.cancel()
	}
	return n, err
}

// TestTailerBounded: a browser that reads nothing holds the server to
// tailBuffer events; the rest are dropped, counted and reported, and an
// event the pattern does not match is neither queued nor counted.
func TestTailerBounded(t *testing.T) {
	rule, _, err := api.PatternText(`type: ["match"]`)
	if err != nil {
		t.Fatal(err)
	}
	tl := &tailer{rule: rule, out: make(chan tailedEvent, tailBuffer)}
	const extra = 44
	for i := range tailBuffer + extra {
		ev := fmt.Sprintf(`{"specversion":"1.0","id":"e%d","source":"s","type":"match"}`, i)
		tl.offer("auditbus.events.default.x", uint64(i+1), []byte(ev))
		tl.offer("auditbus.events.default.x", 0, []byte(`{"specversion":"1.0","id":"no","source":"s","type":"other"}`))
	}
	if len(tl.out) != tailBuffer || tl.dropped.Load() != extra {
		t.Fatalf("queued %d, dropped %d: want %d and %d", len(tl.out), tl.dropped.Load(), tailBuffer, extra)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelAfter{ResponseRecorder: httptest.NewRecorder(), want: `"id":"e255"`, cancel: cancel}
	tl.send(ctx, nil, w)
	body := w.Body.String()
	if !strings.Contains(body, fmt.Sprintf("event: dropped\ndata: %d\n\n", extra)) {
		t.Errorf("no dropped notice for %d events in the stream", extra)
	}
	if n := strings.Count(body, "event: event\n"); n != tailBuffer {
		t.Errorf("%d events sent, want the %d queued", n, tailBuffer)
	}
	if strings.Contains(body, `"id":"no"`) {
		t.Error("an event the pattern does not match was sent")
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
}
