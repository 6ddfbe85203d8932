package dispatch

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// Limits of DLQ reads.
const (
	DefaultDLQLimit = 50
	MaxDLQLimit     = 200
)

// Errors of DLQ reads and redrives, for callers to test with errors.Is.
var (
	// ErrNoSuchTarget: a redrive names a (rule, target) the rules lack.
	ErrNoSuchTarget = errors.New("no such rule target")
	// ErrNoSuchEntry: a redrive names an id the DLQ does not hold.
	ErrNoSuchEntry = errors.New("no such dead letter")
	// ErrBadRedrive: a redrive names neither ids nor a rule, too many
	// ids, or the entry of an unreadable event (ReasonUnreadable).
	ErrBadRedrive = errors.New("redrive needs ids or a rule")
)

// DLQFilter selects dead letters: empty fields match everything; After is
// the sequence to continue after (a page's Next), Limit is at most
// MaxDLQLimit (default DefaultDLQLimit).
type DLQFilter struct {
	Bus, Rule, Target string
	After             uint64
	Limit             int
}

// DLQPage is one page of dead letters, oldest first. Next, when not 0, is
// the After of the following page.
type DLQPage struct {
	Entries []DeadLetter `json:"entries"`
	Next    uint64       `json:"next,omitempty"`
}

// ListDLQ returns the dead letters that f selects.
func (r *Router) ListDLQ(ctx context.Context, f DLQFilter) (DLQPage, error) {
	limit := min(cmp.Or(f.Limit, DefaultDLQLimit), MaxDLQLimit)
	stream, err := r.js.Stream(ctx, bus.DLQStream)
	if err != nil {
		return DLQPage{}, fmt.Errorf("stream %s: %w", bus.DLQStream, err)
	}
	subject := bus.DLQSubject(f.Bus, f.Rule, f.Target)
	page := DLQPage{Entries: []DeadLetter{}}
	for seq := f.After + 1; len(page.Entries) < limit; {
		dl, err := readDeadLetter(ctx, stream, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return page, nil
		}
		if err != nil {
			return DLQPage{}, err
		}
		page.Entries = append(page.Entries, dl)
		seq = dl.ID + 1
	}
	page.Next = page.Entries[len(page.Entries)-1].ID
	return page, nil
}

// readDeadLetter reads the entry at seq (with a subject: the first one on
// it from seq); jetstream.ErrMsgNotFound when there is none.
func readDeadLetter(ctx context.Context, stream jetstream.Stream, seq uint64, opts ...jetstream.GetMsgOpt) (DeadLetter, error) {
	var dl DeadLetter
	raw, err := stream.GetMsg(ctx, seq, opts...)
	if err != nil {
		return dl, fmt.Errorf("read dead letter %d: %w", seq, err)
	}
	if err := json.Unmarshal(raw.Data, &dl); err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", raw.Sequence, err)
	}
	dl.ID = raw.Sequence
	return dl, nil
}

// RedriveRequest selects dead letters to deliver again: by IDs, or by
// Rule (and optionally Bus and Target), at most Limit of them (default and
// cap MaxDLQLimit) per call. IDs with a Bus must all be entries of that
// bus (ErrNoSuchEntry otherwise). ToTarget sends them to another target of the
// same rule instead of their own.
type RedriveRequest struct {
	IDs               []uint64
	Bus, Rule, Target string
	ToTarget          string
	Limit             int
}

// RedriveResult lists the ids redriven.
type RedriveResult struct {
	Redriven []uint64 `json:"redriven"`
}

// Redrive queues the selected dead letters on their target's queue again,
// with a fresh message id (so the deliveries stream's deduplication does
// not drop them) and a fresh enqueue time (so max_age starts over), and
// deletes each entry only after JetStream stored its delivery. A crash in
// between leaves the entry, so it may be delivered twice, never lost. On
// error the result lists what was redriven before it.
func (r *Router) Redrive(ctx context.Context, req RedriveRequest) (RedriveResult, error) {
	res := RedriveResult{Redriven: []uint64{}}
	entries, err := r.selectDeadLetters(ctx, req)
	if err != nil {
		return res, err
	}
	stream, err := r.js.Stream(ctx, bus.DLQStream)
	if err != nil {
		return res, fmt.Errorf("stream %s: %w", bus.DLQStream, err)
	}
	bindings := r.table.Load().bindings
	for _, dl := range entries {
		target := cmp.Or(req.ToTarget, dl.Target)
		if bindings[targetKey{dl.Bus, dl.Rule, target}] == nil {
			return res, fmt.Errorf("%w: bus %q rule %q target %q (dead letter %d)", ErrNoSuchTarget, dl.Bus, dl.Rule, target, dl.ID)
		}
		if err := r.requeue(ctx, dl, target); err != nil {
			return res, err
		}
		if err := stream.DeleteMsg(ctx, dl.ID); err != nil && !msgGone(err) {
			return res, fmt.Errorf("delete dead letter %d after redriving it: %w", dl.ID, err)
		}
		res.Redriven = append(res.Redriven, dl.ID)
	}
	return res, nil
}

func (r *Router) selectDeadLetters(ctx context.Context, req RedriveRequest) ([]DeadLetter, error) {
	limit := min(cmp.Or(req.Limit, MaxDLQLimit), MaxDLQLimit)
	if len(req.IDs) == 0 {
		if req.Rule == "" {
			return nil, ErrBadRedrive
		}
		page, err := r.ListDLQ(ctx, DLQFilter{Bus: req.Bus, Rule: req.Rule, Target: req.Target, Limit: limit})
		return page.Entries, err
	}
	ids := slices.Clone(req.IDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > limit {
		return nil, fmt.Errorf("%w: at most %d ids per call", ErrBadRedrive, limit)
	}
	stream, err := r.js.Stream(ctx, bus.DLQStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", bus.DLQStream, err)
	}
	var out []DeadLetter
	for _, id := range ids {
		dl, err := readDeadLetter(ctx, stream, id)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, fmt.Errorf("%w: %d", ErrNoSuchEntry, id)
		}
		if err != nil {
			return nil, err
		}
		if req.Bus != "" && dl.Bus != req.Bus {
			return nil, fmt.Errorf("%w: %d on bus %q", ErrNoSuchEntry, id, req.Bus)
		}
		if dl.Rule == "" { // an unreadable event: it matched no rule, and would fail the same way again
			return nil, fmt.Errorf("%w: dead letter %d holds an event the router could not read (%s), so it belongs to no rule or target and cannot be redriven; correct the event and send it to POST /v1/events",
				ErrBadRedrive, dl.ID, dl.LastError)
		}
		out = append(out, dl)
	}
	return out, nil
}

// requeue stores dl's event as a delivery to target and waits for the ack.
func (r *Router) requeue(ctx context.Context, dl DeadLetter, target string) error {
	data := []byte(dl.Event)
	if len(data) == 0 {
		data = []byte(dl.EventText)
	}
	m := deliveryMsg(dl.Bus, dl.Rule, target, data, time.Now())
	// One id per entry and target: a redrive repeated (a retried request,
	// two operators) within the dedup window is stored once. Entry ids are
	// stream sequences, never reused.
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("redrive-%d-%s", dl.ID, target))
	if _, err := r.js.PublishMsg(ctx, m, jetstream.WithExpectStream(bus.DeliveriesStream)); err != nil {
		return fmt.Errorf("redrive dead letter %d: %w", dl.ID, err)
	}
	return nil
}

// msgGone reports whether a delete failed because the message is already
// gone: the server answers a generic deletion failure (10057) then, not
// the not-found code ErrMsgNotFound stands for.
func msgGone(err error) bool {
	var apiErr *jetstream.APIError
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return true
	}
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10057 && strings.Contains(apiErr.Description, "no message found")
}
