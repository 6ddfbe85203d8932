package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
)

// Bounds of the rule tester's recent events: how many it lists, and how
// many of the newest stored events it reads to find them (the others may
// be of buses the identity may not see).
const (
	recentShown = 10
	recentRead  = 100
)

// recentEvent is one stored event the tester offers to test with.
type recentEvent struct {
	Seq                    uint64
	Bus, ID, Type, Subject string
	Time                   string
	JSON                   string
}

// errNoRecent: the event is gone, or of a bus the identity may not see.
var errNoRecent = errors.New("no such recent event")

// recentEvents are the newest events on the bus the identity may see,
// newest first; none without JetStream.
func (c *Console) recentEvents(ctx context.Context) []recentEvent {
	if c.opts.JetStream == nil {
		return nil
	}
	st, err := c.opts.JetStream.Stream(ctx, bus.StreamName)
	if err != nil {
		return nil
	}
	info := st.CachedInfo().State
	var out []recentEvent
	for seq := info.LastSeq; seq >= max(info.FirstSeq, 1) && seq+recentRead > info.LastSeq && len(out) < recentShown; seq-- {
		if e, err := c.recentEvent(ctx, st, seq); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// storedEvent reads event seq, refusing one of a bus the identity may not
// see.
func (c *Console) storedEvent(ctx context.Context, seq uint64) (recentEvent, error) {
	if c.opts.JetStream == nil {
		return recentEvent{}, errNoRecent
	}
	st, err := c.opts.JetStream.Stream(ctx, bus.StreamName)
	if err != nil {
		return recentEvent{}, err
	}
	return c.recentEvent(ctx, st, seq)
}

func (c *Console) recentEvent(ctx context.Context, st jetstream.Stream, seq uint64) (recentEvent, error) {
	m, err := st.GetMsg(ctx, seq)
	if err != nil {
		return recentEvent{}, errNoRecent
	}
	parts := strings.Split(m.Subject, ".")
	if len(parts) < 3 || !auth.BusAllowed(ctx, parts[2]) {
		return recentEvent{}, errNoRecent
	}
	var e event.Event
	if err := cejson.Unmarshal(m.Data, &e); err != nil {
		return recentEvent{}, errNoRecent
	}
	// Indented, for reading and editing in the tester's text area.
	var pretty bytes.Buffer
	if json.Indent(&pretty, m.Data, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(m.Data)
	}
	return recentEvent{Seq: seq, Bus: parts[2], ID: e.ID(), Type: e.Type(), Subject: e.Subject(),
		Time: e.Time().UTC().Format("2006-01-02 15:04:05Z"), JSON: pretty.String()}, nil
}
