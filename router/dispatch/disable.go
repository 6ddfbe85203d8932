package dispatch

import (
	"context"
	"fmt"
	"time"
)

// pausedRetry is how soon a delivery comes back that could not be parked
// (the bus failed the write).
const pausedRetry = time.Second

// disable records that key's target is gone, locally at once and in the
// bucket for the other replicas and the next start; its consent is kept.
func (r *Router) disable(ctx context.Context, key targetKey, status int, reason string) error {
	set := func(rec *record) bool {
		rec.Disabled, rec.Reason, rec.Status, rec.Since = true, reason, status, time.Now().UTC()
		return true
	}
	if _, _, err := r.updateState(ctx, key, set); err != nil {
		rec, rev := r.stateOf(key)
		set(&rec)
		r.setCached(key, rec, rev)
		return fmt.Errorf("record disabled target: %w", err)
	}
	return nil
}

// EnableTarget resumes deliveries to a target that is held. A target
// disabled after a 410, or unsubscribed by its endpoint, that asks for
// consent gets a new subscription (a new confirmation or handshake, with
// a new token): the endpoint said it is gone, so whoever answers at the
// URL now must consent again, and deliveries follow once it does. For a
// target still waiting for consent it asks again at once. Enabling a
// target that is not held does nothing. ErrNoSuchTarget when the rules
// have no such target.
func (r *Router) EnableTarget(ctx context.Context, busName, rule, target string) error {
	key := targetKey{busName, rule, target}
	if r.table.Load().bindings[key] == nil {
		return fmt.Errorf("%w: bus %q rule %q target %q", ErrNoSuchTarget, busName, rule, target)
	}
	_, _, err := r.updateState(ctx, key, func(rec *record) bool {
		wasDisabled := rec.Disabled
		rec.Disabled, rec.Reason, rec.Status, rec.Since = false, "", 0, time.Time{}
		switch s := rec.Subscription; {
		case s == nil:
		case wasDisabled || s.Status == SubscriptionUnsubscribed:
			rec.Subscription, rec.Token, rec.EndpointSum = nil, "", ""
			return true
		case s.Status == SubscriptionPending:
			s.NextRequest = time.Time{}
			return true
		}
		return wasDisabled
	})
	if err != nil {
		return fmt.Errorf("enable target: %w", err)
	}
	// A disable the bucket did not take (see disable) lives in the local
	// cache only: clear it there too.
	if rec, rev := r.stateOf(key); rec.Disabled {
		rec.Disabled, rec.Reason, rec.Status, rec.Since = false, "", 0, time.Time{}
		r.setCached(key, rec, rev)
	}
	return nil
}
