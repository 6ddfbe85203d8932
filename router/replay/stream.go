package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// item is one event of the range, as the bus stores it.
type item struct {
	data     []byte    // structured CloudEvent JSON; nil for an event out of the range
	at       time.Time // the event's time
	position string    // where it was read: a stream sequence, an archive file
	// refused is an archived trace that makes no event: skipped, and in
	// the report's failures.
	refused *Failure
}

// source yields the events of a range in order until it ends, ctx ends
// or emit fails.
type source interface {
	read(ctx context.Context, emit func(item) error) error
}

// fetchBatch is how many stream messages one pull asks for.
const fetchBatch = 1000

// streamSource reads one bus's events from the events stream.
type streamSource struct {
	js      jetstream.JetStream
	req     *Request
	subject string
	lastSeq uint64 // the stream's end when the replay started
}

// openStream checks the range against what the stream keeps and returns
// its source, with a warning when the range's start has aged out.
func openStream(ctx context.Context, js jetstream.JetStream, req *Request) (*streamSource, []string, error) {
	s, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		return nil, nil, fmt.Errorf("replay: events stream: %w", err)
	}
	st := s.CachedInfo().State
	maxAge := s.CachedInfo().Config.MaxAge
	if st.Msgs == 0 {
		return nil, nil, fmt.Errorf("%w: the events stream holds no events (it keeps them for %s)", ErrRangeGone, maxAge)
	}
	first, err := s.GetMsg(ctx, st.FirstSeq)
	if err != nil {
		return nil, nil, fmt.Errorf("replay: oldest event: %w", err)
	}
	var warnings []string
	// Events are stored after they happen, often long after (audit
	// records arrive late), so only a stream that has removed events
	// (its first sequence is past 1) can have lost some of the range.
	// When the oldest kept was stored after the range ended, the range's
	// events that arrived on time are gone, and a replay of the late ones
	// would look like it covered the range.
	aged := st.FirstSeq > 1
	if aged && req.To.Before(first.Time) {
		return nil, nil, fmt.Errorf("%w: the range ends %s, but the oldest event the stream keeps was stored %s (it keeps events for %s); replay a tracker's archive instead",
			ErrRangeGone, req.To.Format(time.RFC3339), first.Time.UTC().Format(time.RFC3339), maxAge)
	}
	if aged && req.From.Before(first.Time) {
		warnings = append(warnings, fmt.Sprintf("events stored before %s have aged out of the stream (it keeps events for %s): the range before that is not replayed",
			first.Time.UTC().Format(time.RFC3339), maxAge))
	}
	return &streamSource{js: js, req: req, subject: busSubjects(req.Bus), lastSeq: st.LastSeq}, warnings, nil
}

// busSubjects are the subjects of a bus's events.
func busSubjects(name string) string { return bus.SubjectPrefix + "." + bus.Token(name) + ".>" }

// busHasEvents reports whether the stream holds any event of the bus.
func busHasEvents(ctx context.Context, js jetstream.JetStream, name string) (bool, error) {
	s, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		return false, fmt.Errorf("replay: events stream: %w", err)
	}
	_, err = s.GetLastMsgForSubject(ctx, busSubjects(name))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("replay: events of bus %s: %w", name, err)
	}
	return true, nil
}

func (s *streamSource) read(ctx context.Context, emit func(item) error) error {
	start := s.req.From
	cons, err := s.js.OrderedConsumer(ctx, bus.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{s.subject}, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start,
		InactiveThreshold: 10 * time.Second, // the server drops it soon after a replay ends
	})
	if err != nil {
		return fmt.Errorf("replay: read the stream from %s: %w", start.Format(time.RFC3339), err)
	}
	var end time.Time // zero: no bound but lastSeq
	if s.req.Lateness > 0 {
		end = s.req.To.Add(s.req.Lateness)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := cons.Fetch(fetchBatch, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return fmt.Errorf("replay: read the stream: %w", err)
		}
		got, done := 0, false
		for m := range b.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("replay: message metadata: %w", err)
			}
			seq := md.Sequence.Stream
			if seq > s.lastSeq || !end.IsZero() && md.Timestamp.After(end) {
				done = true
				break
			}
			it := item{data: m.Data(), at: eventTime(m.Data(), md.Timestamp), position: strconv.FormatUint(seq, 10)}
			if err := emit(it); err != nil {
				return err
			}
			done = seq >= s.lastSeq || md.NumPending == 0
		}
		if err := b.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("replay: read the stream: %w", err)
		}
		if got == 0 {
			// An empty pull may only be a slow server: the end is when
			// the consumer has nothing pending.
			info, err := cons.Info(ctx)
			if err != nil {
				return fmt.Errorf("replay: read the stream: %w", err)
			}
			done = info.NumPending == 0
		}
		if done {
			return ctx.Err()
		}
	}
}

// eventTime is an event's CloudEvents time, else when it was stored, as
// the archive files it (router/index's Record.Time).
func eventTime(data []byte, stored time.Time) time.Time {
	var e struct {
		Time string `json:"time"`
	}
	if json.Unmarshal(data, &e) == nil && e.Time != "" {
		if t, err := time.Parse(time.RFC3339Nano, e.Time); err == nil {
			return t
		}
	}
	return stored
}
