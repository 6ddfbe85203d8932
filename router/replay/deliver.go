package replay

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"golang.org/x/time/rate"

	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// job is one replayed delivery.
type job struct {
	ev    *event.Event // marked; shared by the event's jobs: sinks only read it
	plain *event.Event // unmarked, what input expressions see; nil when no target has one
	rule  *rules.Rule
	tg    *rules.Target
}

// deliverer delivers a replay's matches through sinks of its own, with
// its own pool of workers and rate: nothing of the live targets' lanes.
type deliverer struct {
	id      string
	bus     string
	deps    sinks.Deps
	state   func(bus, rule, target string) dispatch.TargetState // nil: no target is held
	tally   *tally
	limiter *rate.Limiter // nil: unlimited
	jobs    chan job
	wg      sync.WaitGroup

	mu    sync.Mutex // guards the map only: sinks connect outside it
	sinks map[pairKey]*lazySink
}

// lazySink is a target's sink, built and connected by the first worker
// that needs it while the others deliver to other targets.
type lazySink struct {
	once sync.Once
	s    sinks.Sink
	err  error
}

// retryDelays are the waits before a retryable failure's next attempt.
var retryDelays = [DefaultAttempts - 1]time.Duration{200 * time.Millisecond, time.Second}

// MaxRetryAfter is the longest Retry-After a replay waits: a target that
// asks for a longer pause fails the delivery at once, rather than
// holding a worker (and, with every worker held, the replay) for as long
// as the target says.
const MaxRetryAfter = 30 * time.Second

func newDeliverer(ctx context.Context, id string, req *Request, deps sinks.Deps, state func(bus, rule, target string) dispatch.TargetState, t *tally) *deliverer {
	d := &deliverer{id: id, bus: req.Bus, deps: deps, state: state, tally: t, jobs: make(chan job),
		sinks: map[pairKey]*lazySink{}}
	if req.Rate > 0 {
		d.limiter = rate.NewLimiter(rate.Limit(req.Rate), max(1, int(math.Ceil(req.Rate))))
	}
	for range req.Concurrency {
		d.wg.Go(func() {
			for j := range d.jobs {
				d.deliver(ctx, j)
			}
		})
	}
	return d
}

// submit hands the event's deliveries to the workers, waiting for a free
// one (the reader goes no faster than the targets take events).
func (d *deliverer) submit(ctx context.Context, data []byte, matched []*rules.Rule) error {
	var ev event.Event
	if err := cejson.Unmarshal(data, &ev); err != nil {
		for _, r := range matched {
			for _, t := range r.Targets {
				d.tally.delivery(ev.ID(), pairKey{r.Name, t.ID}, fmt.Errorf("not a structured CloudEvent: %w", err))
			}
		}
		return nil
	}
	plain := unmarked(&ev, matched)
	ev.SetExtension(Extension, d.id)
	for _, r := range matched {
		for i := range r.Targets {
			select {
			case d.jobs <- job{ev: &ev, plain: plain, rule: r, tg: &r.Targets[i]}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// unmarked is a copy of ev made before the mark is set, for the input
// expressions of the matched targets (which see the event as the live
// router delivers it); nil when none of them has one.
func unmarked(ev *event.Event, matched []*rules.Rule) *event.Event {
	for _, r := range matched {
		for _, t := range r.Targets {
			if r.HasInput(t.ID) {
				c := ev.Clone()
				return &c
			}
		}
	}
	return nil
}

// close waits for the deliveries in flight and closes the sinks.
func (d *deliverer) close() {
	close(d.jobs)
	d.wg.Wait()
	for _, s := range d.sinks {
		if s.s != nil {
			_ = s.s.Close()
		}
	}
}

func (d *deliverer) deliver(ctx context.Context, j job) {
	k := pairKey{j.rule.Name, j.tg.ID}
	if ctx.Err() != nil {
		return // cancelled: not a failure of the target
	}
	err := d.attempts(ctx, j, k)
	if ctx.Err() != nil && err != nil {
		return
	}
	d.tally.delivery(j.ev.ID(), k, err)
}

// attempts delivers j, retrying a retryable failure DefaultAttempts times
// in all, and answers the last error.
func (d *deliverer) attempts(ctx context.Context, j job, k pairKey) error {
	s, err := d.sink(ctx, j, k)
	if err != nil {
		return err
	}
	if reason := d.held(j, k, s); reason != "" {
		return errors.New(reason)
	}
	var payload any
	if j.rule.HasInput(j.tg.ID) {
		if payload, err = j.rule.Input(j.tg.ID, rules.NewEnv(j.plain)); err != nil {
			return fmt.Errorf("input expression: %w", err)
		}
	}
	for n := 1; ; n++ {
		if d.limiter != nil {
			if err := d.limiter.Wait(ctx); err != nil {
				return err
			}
		}
		// Stored stays nil: the sink encodes the event, which carries the mark.
		err = s.Deliver(ctx, &sinks.Delivery{Event: j.ev, Bus: d.bus, Rule: k.rule, Target: k.target, Payload: payload, Attempt: n})
		if err == nil || n == DefaultAttempts || !sinks.Retryable(err) {
			return err
		}
		wait := sinks.RetryAfter(err)
		if wait > MaxRetryAfter {
			return fmt.Errorf("%w (the target asks to retry after %s, longer than a replay waits, %s)", err, wait, MaxRetryAfter)
		}
		if err := sleep(ctx, max(retryDelays[n-1], wait)); err != nil {
			return err
		}
	}
}

// sleep waits d, or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// consenter is a sink that delivers only once its endpoint consented.
type consenter interface{ ConsentMode() string }

// held says why the live router would not deliver to the target now
// (disabled after a 410, consent not given), "" when it would.
func (d *deliverer) held(j job, k pairKey, s sinks.Sink) string {
	if d.state == nil {
		return ""
	}
	st := d.state(d.bus, k.rule, k.target)
	if st.Disabled {
		return "target is disabled (" + st.Reason + "): enable it first"
	}
	if c, ok := s.(consenter); ok && c.ConsentMode() != "" {
		if st.Subscription == nil || st.Subscription.Status != dispatch.SubscriptionConfirmed {
			return "target has not consented to deliveries (" + c.ConsentMode() + ")"
		}
	}
	return ""
}

// sink is the replay's own sink of a target, built and connected once,
// by the first worker to need it; workers of other targets go on
// meanwhile (a slow Connect holds only its target's deliveries).
func (d *deliverer) sink(ctx context.Context, j job, k pairKey) (sinks.Sink, error) {
	d.mu.Lock()
	ls := d.sinks[k]
	if ls == nil {
		ls = &lazySink{}
		d.sinks[k] = ls
	}
	d.mu.Unlock()
	ls.once.Do(func() {
		ls.s, ls.err = sinks.New(j.tg.Kind, &j.tg.Config, d.deps)
		if ls.err != nil {
			ls.err = fmt.Errorf("target %s: %w", j.tg.ID, ls.err)
			return
		}
		if cerr := ls.s.Connect(ctx); cerr != nil {
			d.deps.Log.Warn().Err(cerr).Str("replay", d.id).Str("rule", k.rule).Str("target", k.target).Msg("replay: target did not connect; delivering anyway")
		}
	})
	return ls.s, ls.err
}
