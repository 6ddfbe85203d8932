package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/rules"
)

// Bounds of the live tail: how many events the page shows (the oldest
// go first), how many matching events the server holds for a browser
// that reads slower than they come (more are dropped and counted, never
// buffered), and how often an idle stream sends a comment so proxies keep
// it open.
const (
	tailShown     = 200
	tailBuffer    = 256
	tailHeartbeat = 15 * time.Second
)

// tailData is the live tail page's: the pattern typed, its problems, and
// the stream's URL when it compiled.
type tailData struct {
	Pattern, Bus string
	Buses        []string // an identity's buses; nil: every bus
	Problems     []string
	Stream       string
	Shown        int
}

// tail shows the pattern form and, for a pattern that compiles, the
// events arriving (static/tail.js reads the stream).
func (c *Console) tail(rq *request) {
	q := rq.r.URL.Query()
	d := tailData{Pattern: q.Get("pattern"), Bus: q.Get("bus"), Shown: tailShown}
	if rq.id != nil {
		d.Buses = rq.id.Buses()
	}
	status := http.StatusOK
	_, _, err := c.tailFilter(rq, d.Pattern, d.Bus)
	var ae *auth.Error
	switch {
	case errors.As(err, &ae):
		status, d.Problems = ae.Status, []string{ae.Msg}
	case err != nil:
		status, d.Problems = http.StatusBadRequest, problems(err)
	default:
		d.Stream = Prefix + "tail/stream?" + url.Values{"pattern": {d.Pattern}, "bus": {d.Bus}}.Encode()
	}
	rq.render(status, "tail.html", "Live tail", d)
}

// problems are err's lines, one per problem.
func problems(err error) []string { return strings.Split(err.Error(), "\n") }

// tailFilter compiles pattern and picks the subjects of bus (every bus
// the identity may read when ""). Errors: the pattern's, an *auth.Error
// for a bus the identity may not read.
func (c *Console) tailFilter(rq *request, pattern, busName string) (*rules.Rule, []string, error) {
	rule, _, err := api.PatternText(pattern)
	if err != nil {
		return nil, nil, err
	}
	if busName != "" {
		if err := api.CheckBusName(busName); err != nil {
			return nil, nil, fmt.Errorf("bus: %w", err)
		}
		if !auth.BusAllowed(rq.r.Context(), busName) {
			return nil, nil, auth.Forbidden(rq.id, busName)
		}
		return rule, []string{bus.SubjectPrefix + "." + busName + ".>"}, nil
	}
	if rq.id != nil && rq.id.Buses() != nil {
		var subjects []string
		for _, b := range rq.id.Buses() {
			subjects = append(subjects, bus.SubjectPrefix+"."+b+".>")
		}
		return rule, subjects, nil
	}
	return rule, []string{bus.SubjectPrefix + ".>"}, nil
}

// tailedEvent is one event as the tail page shows it.
type tailedEvent struct {
	Seq     uint64          `json:"seq"`
	Bus     string          `json:"bus"`
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Source  string          `json:"source"`
	Subject string          `json:"subject,omitempty"`
	Time    string          `json:"time"`
	Event   json.RawMessage `json:"event"`
}

// tailStream is the server-sent events of the tail: an ordered consumer
// on the events stream from now, each matching event an "event" message;
// when the browser falls behind by tailBuffer events, the next ones are
// dropped and a "dropped" message says how many. It ends with the request
// (the page closed or went away).
func (c *Console) tailStream(rq *request) {
	q := rq.r.URL.Query()
	rule, subjects, err := c.tailFilter(rq, q.Get("pattern"), q.Get("bus"))
	var ae *auth.Error
	switch {
	case errors.As(err, &ae):
		http.Error(rq.w, ae.Msg, ae.Status)
		return
	case err != nil:
		http.Error(rq.w, err.Error(), http.StatusBadRequest)
		return
	case c.opts.JetStream == nil:
		http.Error(rq.w, "this server has no events stream to follow", http.StatusServiceUnavailable)
		return
	}
	ctx := rq.r.Context()
	cons, err := c.opts.JetStream.OrderedConsumer(ctx, bus.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		http.Error(rq.w, "follow the events stream: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	t := &tailer{rule: rule, out: make(chan tailedEvent, tailBuffer)}
	cc, err := cons.Consume(t.take)
	if err != nil {
		http.Error(rq.w, "follow the events stream: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer c.stopTail(ctx, cons, cc)
	t.send(ctx, serverClosing(rq.r), rq.w)
}

// shutdowns holds, per HTTP server, a channel closed when it shuts down.
// A tail's stream is never idle, so http.Server.Shutdown would wait for
// it until its deadline and return with the stream still open; the
// streams end on this instead. One entry per server, for the process's
// life: a process runs one server (tests, a few).
var shutdowns sync.Map // *http.Server → chan struct{}

// serverClosing is the channel of r's server (nil, never closed, when r
// came some other way than an http.Server).
func serverClosing(r *http.Request) <-chan struct{} {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return nil
	}
	ch := make(chan struct{})
	if v, loaded := shutdowns.LoadOrStore(srv, ch); loaded {
		return v.(chan struct{})
	}
	srv.RegisterOnShutdown(func() { close(ch) })
	return ch
}

// stopTail stops the tail's consumer and deletes it now, rather than
// leaving it to JetStream's inactivity threshold: every page view makes
// one.
func (c *Console) stopTail(ctx context.Context, cons jetstream.Consumer, cc jetstream.ConsumeContext) {
	cc.Stop()
	name := cons.CachedInfo().Name
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.opts.JetStream.DeleteConsumer(ctx, bus.StreamName, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		c.opts.Log.Warn().Err(err).Str("consumer", name).Msg("live tail consumer not deleted; JetStream removes it when idle")
	}
}

// tailer hands matching events from the consumer's callback to the
// request's goroutine without ever blocking the callback.
type tailer struct {
	rule    *rules.Rule
	out     chan tailedEvent
	dropped atomic.Int64
}

// take is the consumer's callback.
func (t *tailer) take(m jetstream.Msg) {
	var seq uint64
	if md, err := m.Metadata(); err == nil {
		seq = md.Sequence.Stream
	}
	t.offer(m.Subject(), seq, m.Data())
}

// offer queues a stored event for the browser if it matches, or counts
// it as dropped when the queue is full: it never blocks.
func (t *tailer) offer(subject string, seq uint64, data []byte) {
	var e event.Event
	if cejson.Unmarshal(data, &e) != nil {
		return
	}
	if t.rule != nil {
		if ok, _ := t.rule.Match(rules.NewEnv(&e)); !ok {
			return
		}
	}
	te := tailedEvent{Seq: seq, Bus: bus.BusOf(subject), ID: e.ID(), Type: e.Type(), Source: e.Source(),
		Subject: e.Subject(), Time: e.Time().UTC().Format(time.RFC3339Nano), Event: data}
	select {
	case t.out <- te:
	default:
		t.dropped.Add(1)
	}
}

// send writes the stream until ctx ends, closing is closed or the
// browser stops reading.
func (t *tailer) send(ctx context.Context, closing <-chan struct{}, w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives any write timeout; ctx ends it
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": auditbus live tail\n\n")
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(tailHeartbeat)
	defer beat.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-closing:
			return
		case <-beat.C:
			_, err = fmt.Fprint(w, ": still here\n\n")
		case te := <-t.out:
			b, _ := json.Marshal(te) // of strings and JSON already checked
			_, err = fmt.Fprintf(w, "event: event\ndata: %s\n\n", b)
		}
		if n := t.dropped.Swap(0); n > 0 && err == nil {
			_, err = fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", n)
		}
		if err != nil || rc.Flush() != nil {
			return
		}
	}
}
