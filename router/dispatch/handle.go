package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// handle processes one stored event from decoding to settlement.
func (r *Router) handle(ctx context.Context, msg jetstream.Msg) {
	t := r.acquire()
	defer t.inUse.RUnlock()

	busName := bus.BusOf(msg.Subject())
	res, err := t.set.Match(busName, msg.Data())
	if err != nil {
		r.settle(msg, outcome{poison: err.Error()})
		return
	}
	for _, err := range res.Errors {
		r.opts.log.Warn().Err(err).Str("subject", msg.Subject()).Msg("rule evaluation failed; counted as no match")
	}
	r.countRuleErrors(busName, res.Errors)
	if len(res.Rules) == 0 {
		r.settle(msg, outcome{})
		return
	}
	// Only matched events are decoded in full: most events match nothing.
	var e event.Event
	if err := json.Unmarshal(msg.Data(), &e); err != nil {
		r.settle(msg, outcome{poison: fmt.Sprintf("not a structured CloudEvent: %v", err)})
		return
	}
	stop := r.keepAlive(msg)
	defer stop()
	r.settle(msg, r.deliverAll(ctx, t, &e, rules.NewEnv(&e), busName, res.Rules))
}

// countRuleErrors attributes runtime errors to rules when the error names
// one (rules wraps them as *rules.MatchError).
func (r *Router) countRuleErrors(busName string, errs []error) {
	for _, err := range errs {
		r.metrics.ruleErrors.WithLabelValues(busName, ruleOf(err)).Inc()
	}
}

// keepAlive tells JetStream the event is still being worked on, so a slow
// target does not make the server hand it to another replica meanwhile.
func (r *Router) keepAlive(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(r.opts.ackWait / 3)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				_ = msg.InProgress()
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// deliverAll delivers to every target of every matched rule concurrently
// and merges their outcomes.
func (r *Router) deliverAll(ctx context.Context, t *table, e *event.Event, env rules.Env, busName string, matched []*rules.Rule) outcome {
	var (
		mu  sync.Mutex
		all outcome
		wg  sync.WaitGroup
	)
	for _, rule := range matched {
		r.metrics.matches.WithLabelValues(busName, rule.Name).Inc()
		for _, tg := range rule.Targets {
			sink := t.sinks[targetKey{rule.Bus, rule.Name, tg.ID}]
			d := &sinks.Delivery{Event: e, Bus: busName, Rule: rule.Name, Target: tg.ID}
			wg.Go(func() {
				o := r.deliverOne(ctx, sink, rule, tg, env, d)
				mu.Lock()
				all = all.merge(o)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return all
}

// deliverOne builds the target's payload and tries the delivery up to the
// configured attempts, backing off with jitter between them.
func (r *Router) deliverOne(ctx context.Context, sink sinks.Sink, rule *rules.Rule, tg rules.Target, env rules.Env, d *sinks.Delivery) outcome {
	log := r.opts.log.With().Str("event", d.Event.ID()).Str("rule", rule.Name).Str("target", tg.ID).Logger()
	payload, err := rule.Input(tg.ID, env)
	if err != nil {
		log.Error().Err(err).Msg("input expression failed; delivery rejected")
		r.metrics.deliveries.WithLabelValues(rule.Name, tg.ID, "rejected").Inc()
		return outcome{}
	}
	d.Payload = payload
	var lastErr error
	for attempt := 1; attempt <= r.opts.attempts; attempt++ {
		d.Attempt = attempt
		start := time.Now()
		lastErr = sink.Deliver(ctx, d)
		r.metrics.latency.WithLabelValues(tg.Kind).Observe(time.Since(start).Seconds())
		switch {
		case lastErr == nil:
			r.metrics.deliveries.WithLabelValues(rule.Name, tg.ID, "delivered").Inc()
			return outcome{}
		case !sinks.Retryable(lastErr):
			log.Error().Err(lastErr).Int("attempt", attempt).Msg("delivery rejected by target; not retried")
			r.metrics.deliveries.WithLabelValues(rule.Name, tg.ID, "rejected").Inc()
			return outcome{}
		}
		r.metrics.deliveries.WithLabelValues(rule.Name, tg.ID, "failed").Inc()
		log.Warn().Err(lastErr).Int("attempt", attempt).Msg("delivery failed")
		wait := max(sinks.RetryAfter(lastErr), jitter(r.opts.backoff<<(attempt-1)))
		if attempt == r.opts.attempts || wait > maxInPlaceWait || !sleepCtx(ctx, wait) {
			break
		}
	}
	if ctx.Err() != nil {
		return outcome{handBack: true}
	}
	return outcome{retryAfter: max(sinks.RetryAfter(lastErr), time.Second),
		lastErr: fmt.Sprintf("rule %q target %q: %v", rule.Name, tg.ID, lastErr)}
}

// maxInPlaceWait caps a wait between attempts made in place; a target that
// asks for longer gets the event back from the bus after that delay instead.
const maxInPlaceWait = 5 * time.Second

// jitter returns a duration in [d/2, d).
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// sleepCtx waits d or until ctx ends; false if ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
