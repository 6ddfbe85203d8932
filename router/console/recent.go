package console

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
)

// recentShown is how many of the newest events the rule tester offers.
const recentShown = 10

// recentEvent is one stored event the tester offers to test with.
type recentEvent struct {
	Seq                    uint64
	Bus, ID, Type, Subject string
	Time                   string
	JSON                   string
}

// errNoRecent: the event is gone, or of a bus the identity may not see.
var errNoRecent = errors.New("no such recent event")

// recentEvents are the newest events on the buses the identity may see,
// newest first; none without JetStream. An identity of every bus reads
// the stream's last recentShown events; one limited to buses reads only
// its buses' events (newestOn), however many of other buses came since.
func (c *Console) recentEvents(ctx context.Context) []recentEvent {
	if c.opts.JetStream == nil {
		return nil
	}
	st, err := c.opts.JetStream.Stream(ctx, bus.StreamName)
	if err != nil {
		return nil
	}
	info := st.CachedInfo().State
	first := max(info.FirstSeq, 1)
	if info.LastSeq < first {
		return nil
	}
	var seqs []uint64
	if id := auth.FromContext(ctx); id != nil && id.Buses() != nil {
		for _, b := range id.Buses() {
			seqs = append(seqs, newestOn(ctx, st, bus.SubjectPrefix+"."+bus.Token(b)+".>", first, info.LastSeq, recentShown)...)
		}
		slices.SortFunc(seqs, func(a, b uint64) int { return cmp.Compare(b, a) })
	} else {
		for seq := info.LastSeq; seq >= first && len(seqs) < recentShown; seq-- {
			seqs = append(seqs, seq)
		}
	}
	var out []recentEvent
	for _, seq := range seqs {
		if len(out) == recentShown {
			break
		}
		if e, err := c.recentEvent(ctx, st, seq); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// newestOn returns the sequences of the newest need messages on subject
// in [lo, hi], newest first. JetStream finds a subject's next message
// from a sequence but not its previous one, so it halves the range,
// newest half first, until a half's first message is close enough to its
// end to read forward: about need·log2(hi-lo) reads, only of messages on
// subject, instead of every message of the range.
func newestOn(ctx context.Context, st jetstream.Stream, subject string, lo, hi uint64, need int) []uint64 {
	if need <= 0 || lo > hi {
		return nil
	}
	m, err := st.GetMsg(ctx, lo, jetstream.WithGetMsgSubject(subject))
	if err != nil || m.Sequence > hi {
		return nil
	}
	if hi-m.Sequence < uint64(2*need) {
		var fwd []uint64
		for seq := m.Sequence; seq <= hi; seq++ {
			fwd = append(fwd, seq)
			next, err := st.GetMsg(ctx, seq+1, jetstream.WithGetMsgSubject(subject))
			if err != nil || next.Sequence > hi {
				break
			}
			seq = next.Sequence - 1
		}
		slices.Reverse(fwd)
		return fwd[:min(need, len(fwd))]
	}
	mid := m.Sequence + (hi-m.Sequence)/2
	out := newestOn(ctx, st, subject, mid+1, hi, need)
	return append(out, newestOn(ctx, st, subject, m.Sequence, mid, need-len(out))...)
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
