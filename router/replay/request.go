package replay

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/auditbus/auditbus/rules"
)

// Modes of a replay.
const (
	ModeDeliver = "deliver" // deliver every match to its target, marked
	ModeWhatIf  = "what-if" // deliver nothing; report the matches
)

// Extension is the CloudEvents extension attribute every replayed
// delivery carries, its value the replay's id, so that receivers can tell
// a replayed event from the live one (same id, source and data).
const Extension = "replayed"

// Defaults and bounds of a Request.
const (
	DefaultConcurrency = 4   // deliveries in flight at once per replay
	MaxConcurrency     = 64  //
	DefaultSample      = 100 // events with matches kept in the report
	MaxSample          = 1000
	MaxLateness        = 30 * 24 * time.Hour
	DefaultAttempts    = 3 // per replayed delivery, retryable failures only
	maxFailures        = 100
)

// Sentinel errors, for callers that answer them differently.
var (
	ErrInvalid        = errors.New("invalid replay request")
	ErrUnknownTracker = errors.New("unknown tracker")
	ErrUnknownBus     = errors.New("unknown bus")
	// ErrRangeGone is a range that ends before the oldest event the
	// stream keeps: replaying it would find nothing.
	ErrRangeGone = errors.New("range is older than the events stream keeps")
	ErrNotFound  = errors.New("no such replay")
	ErrBusy      = errors.New("too many replays running")
)

// Request is one replay to run.
type Request struct {
	From, To time.Time // the range of event times, From <= time <= To
	Bus      string    // default rules.DefaultBus
	// Tracker, when set, reads the archive of the management tracker of
	// this name (CTS's is "system") instead of the events stream;
	// ProjectID picks the project when several have one of that name.
	Tracker, ProjectID string
	Mode               string        // ModeDeliver or ModeWhatIf; default ModeWhatIf
	Draft              []*rules.Rule // nil: the bus's live rules
	Rate               float64       // deliveries per second at most; 0: unlimited
	Concurrency        int           // default DefaultConcurrency, at most MaxConcurrency
	Sample             int           // default DefaultSample, at most MaxSample
	// Lateness bounds the stream read: events stored more than Lateness
	// after To are not read. 0: read to the stream's end as it was when
	// the replay started, which finds events however late they arrived.
	Lateness time.Duration
}

// normalize fills the defaults and refuses what cannot run, every error
// wrapping ErrInvalid and naming the field.
func (r *Request) normalize() error {
	if r.Bus == "" {
		r.Bus = rules.DefaultBus
	}
	if r.Mode == "" {
		r.Mode = ModeWhatIf
	}
	switch {
	case r.From.IsZero() || r.To.IsZero():
		return fmt.Errorf("%w: from and to are required (RFC 3339 times)", ErrInvalid)
	case !r.From.Before(r.To):
		return fmt.Errorf("%w: from %s is not before to %s", ErrInvalid, r.From.Format(time.RFC3339Nano), r.To.Format(time.RFC3339Nano))
	case r.Mode != ModeDeliver && r.Mode != ModeWhatIf:
		return fmt.Errorf("%w: mode %q: want %s or %s", ErrInvalid, r.Mode, ModeDeliver, ModeWhatIf)
	case r.Rate < 0 || math.IsNaN(r.Rate) || math.IsInf(r.Rate, 0):
		return fmt.Errorf("%w: rate %v: want deliveries per second, 0 for unlimited", ErrInvalid, r.Rate)
	case r.Concurrency < 0 || r.Concurrency > MaxConcurrency:
		return fmt.Errorf("%w: concurrency %d: want 1 to %d", ErrInvalid, r.Concurrency, MaxConcurrency)
	case r.Sample < 0 || r.Sample > MaxSample:
		return fmt.Errorf("%w: sample %d: want 1 to %d", ErrInvalid, r.Sample, MaxSample)
	case r.Lateness < 0 || r.Lateness > MaxLateness:
		return fmt.Errorf("%w: lateness %s: want 0 to %s", ErrInvalid, r.Lateness, MaxLateness)
	case r.ProjectID != "" && r.Tracker == "":
		return fmt.Errorf("%w: project_id picks a tracker's project: name the tracker too", ErrInvalid)
	}
	for _, rule := range r.Draft {
		if rule.Bus != r.Bus {
			return fmt.Errorf("%w: draft rule %q (%s) is on bus %q; the replay is of bus %q", ErrInvalid, rule.Name, rule.Pos, rule.Bus, r.Bus)
		}
	}
	if r.Concurrency == 0 {
		r.Concurrency = DefaultConcurrency
	}
	if r.Sample == 0 {
		r.Sample = DefaultSample
	}
	return nil
}

// inRange reports whether an event time is in the range, at the
// millisecond precision archived traces keep, so that the stream and the
// archive agree on the edges.
func (r *Request) inRange(t time.Time) bool {
	ms := t.UnixMilli()
	return ms >= r.From.UnixMilli() && ms <= r.To.UnixMilli()
}
