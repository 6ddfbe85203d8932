package replay

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Which rule set matched an event to a target, in a what-if with a draft.
const (
	ByDraft = "draft" // the draft only
	ByLive  = "live"  // the live rules only
	ByBoth  = "both"
)

// Progress is how far a replay is.
type Progress struct {
	Read      int64 `json:"read"`      // events read from the source
	InRange   int64 `json:"in_range"`  // of those, in the range
	Matched   int64 `json:"matched"`   // of those, matched by a rule of the replay's rules
	Delivered int64 `json:"delivered"` // deliveries the targets took (deliver mode)
	Failed    int64 `json:"failed"`    // deliveries that failed every attempt, or could not be made
	Skipped   int64 `json:"skipped"`   // events that are not CloudEvents the rules can read, archived traces that make no event
	// Position is the last event read: a stream sequence, or an archive
	// file (relative to the tracker's CloudTraces directory) and index.
	Position string `json:"position,omitempty"`
}

// Report is what a replay found. Its size is bounded whatever the range:
// one TargetCount per rule target (of the draft and the live rules), at
// most Request.Sample events in Sample, at most 100 Failures.
type Report struct {
	Targets []TargetCount `json:"targets"`
	// Events counts the events of the range by which rules matched them,
	// in a what-if with a draft: draft only, live only, both.
	DraftOnly int64 `json:"draft_only,omitempty"`
	LiveOnly  int64 `json:"live_only,omitempty"`
	Both      int64 `json:"both,omitempty"`
	// Sample is the first matched events, in the order read; Truncated
	// says more matched than it holds.
	Sample    []SampleEvent `json:"sample"`
	Truncated bool          `json:"truncated"`
	Failures  []Failure     `json:"failures,omitempty"`
}

// TargetCount is one rule target's count of matched events.
type TargetCount struct {
	Rule   string `json:"rule"`
	Target string `json:"target"`
	// Matched: by the replay's rules (the draft when there is one).
	Matched int64 `json:"matched"`
	// Delivered and Failed: deliver mode.
	Delivered int64 `json:"delivered,omitempty"`
	Failed    int64 `json:"failed,omitempty"`
	// DraftOnly, LiveOnly and Both: a what-if with a draft; a rule is the
	// same in both when it has the same name.
	DraftOnly int64 `json:"draft_only,omitempty"`
	LiveOnly  int64 `json:"live_only,omitempty"`
	Both      int64 `json:"both,omitempty"`
}

// SampleEvent is one matched event and where it went or would have.
type SampleEvent struct {
	ID       string    `json:"id"`
	Source   string    `json:"source"`
	Type     string    `json:"type"`
	Time     time.Time `json:"time"`
	Position string    `json:"position"`
	Matches  []Match   `json:"matches"`
}

// Match is one rule target an event matched.
type Match struct {
	Rule   string `json:"rule"`
	Target string `json:"target"`
	By     string `json:"by,omitempty"` // ByDraft, ByLive or ByBoth, with a draft in what-if mode
}

// Failure is one replayed delivery that failed, or one archived trace
// that makes no event (skipped: no Rule or Target, its Position).
type Failure struct {
	ID       string `json:"id"`
	Rule     string `json:"rule,omitempty"`
	Target   string `json:"target,omitempty"`
	Position string `json:"position,omitempty"`
	Error    string `json:"error"`
}

type pairKey struct{ rule, target string }

// tally is a running replay's progress and report.
type tally struct {
	read, inRange, matched, delivered, failed, skipped atomic.Int64

	mu       sync.Mutex
	position string
	report   Report
	targets  map[pairKey]*TargetCount
	sample   int
}

func newTally(sample int) *tally {
	return &tally{targets: map[pairKey]*TargetCount{}, sample: sample, report: Report{Sample: []SampleEvent{}}}
}

func (t *tally) at(position string) {
	t.read.Add(1)
	t.mu.Lock()
	t.position = position
	t.mu.Unlock()
}

func (t *tally) target(k pairKey) *TargetCount {
	c := t.targets[k]
	if c == nil {
		c = &TargetCount{Rule: k.rule, Target: k.target}
		t.targets[k] = c
	}
	return c
}

// matched records one event's matches; diff says they carry By.
func (t *tally) add(ev SampleEvent, diff bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var draft, live bool
	for _, m := range ev.Matches {
		c := t.target(pairKey{m.Rule, m.Target})
		switch m.By {
		case ByDraft:
			c.DraftOnly++
		case ByLive:
			c.LiveOnly++
		case ByBoth:
			c.Both++
		}
		if m.By != ByLive {
			c.Matched++
		}
		draft, live = draft || m.By != ByLive, live || m.By == ByLive || m.By == ByBoth
	}
	if draft {
		t.matched.Add(1)
	}
	if diff {
		switch {
		case draft && live:
			t.report.Both++
		case draft:
			t.report.DraftOnly++
		case live:
			t.report.LiveOnly++
		}
	}
	if len(t.report.Sample) < t.sample {
		t.report.Sample = append(t.report.Sample, ev)
	} else {
		t.report.Truncated = true
	}
}

// delivery records one replayed delivery's outcome.
func (t *tally) delivery(id string, k pairKey, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.target(k)
	if err == nil {
		t.delivered.Add(1)
		c.Delivered++
		return
	}
	t.failed.Add(1)
	c.Failed++
	if len(t.report.Failures) < maxFailures {
		t.report.Failures = append(t.report.Failures, Failure{ID: id, Rule: k.rule, Target: k.target, Error: err.Error()})
	}
}

// refuse records an event the source could not make: skipped, and a
// failure while the report has room.
func (t *tally) refuse(f Failure) {
	t.skipped.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.report.Failures) < maxFailures {
		t.report.Failures = append(t.report.Failures, f)
	}
}

func (t *tally) progress() Progress {
	t.mu.Lock()
	pos := t.position
	t.mu.Unlock()
	return Progress{Read: t.read.Load(), InRange: t.inRange.Load(), Matched: t.matched.Load(), Delivered: t.delivered.Load(),
		Failed: t.failed.Load(), Skipped: t.skipped.Load(), Position: pos}
}

// snapshot is a copy of the report so far, targets by rule then target.
func (t *tally) snapshot() Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.report
	r.Sample = slices.Clone(r.Sample)
	r.Failures = slices.Clone(r.Failures)
	r.Targets = make([]TargetCount, 0, len(t.targets))
	for _, c := range t.targets {
		r.Targets = append(r.Targets, *c)
	}
	slices.SortFunc(r.Targets, func(a, b TargetCount) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Target, b.Target))
	})
	return r
}
