package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DisabledBucket is the NATS KV bucket that records disabled targets, so
// every replica stops and resumes delivering to a target together and the
// state survives restarts. Keys are "<bus>.<rule>.<target>".
const DisabledBucket = "auditbus-disabled-targets"

// TargetState is what the router knows about one target beyond its rule.
type TargetState struct {
	// Disabled: the target answered 410 Gone, so nothing is delivered to
	// it until an operator re-enables it (EnableTarget); its deliveries
	// stay queued meanwhile.
	Disabled bool      `json:"disabled"`
	Reason   string    `json:"reason,omitempty"`
	Status   int       `json:"status,omitempty"`
	Since    time.Time `json:"since,omitzero"`
}

// pausedRetry is how soon a delivery fetched just before its target was
// disabled comes back; the queue does not fetch while the target is
// disabled, so it is really held until the target is enabled.
const pausedRetry = time.Second

func kvKey(k targetKey) string { return k.bus + "." + k.rule + "." + k.target }

func keyOf(kvKey string) (targetKey, bool) {
	parts := strings.Split(kvKey, ".")
	if len(parts) != 3 {
		return targetKey{}, false
	}
	return targetKey{parts[0], parts[1], parts[2]}, true
}

// openDisabled creates the bucket when missing.
func (r *Router) openDisabled(ctx context.Context) error {
	kv, err := r.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      DisabledBucket,
		Description: "auditbus: targets disabled after answering 410 Gone",
		Storage:     jetstream.FileStorage,
		Replicas:    max(r.opts.replicas, 1),
	})
	if err != nil {
		return fmt.Errorf("bucket %s: %w", DisabledBucket, err)
	}
	r.kv = kv
	return nil
}

// watchDisabled loads the disabled targets, then returns a function that
// follows changes until ctx ends (run it in a goroutine the caller owns).
func (r *Router) watchDisabled(ctx context.Context) (follow func(), err error) {
	w, err := r.kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", DisabledBucket, err)
	}
	for e := range w.Updates() {
		if e == nil { // initial values done
			break
		}
		r.applyDisabled(e)
	}
	return func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e != nil {
					r.applyDisabled(e)
				}
			}
		}
	}, nil
}

func (r *Router) applyDisabled(e jetstream.KeyValueEntry) {
	key, ok := keyOf(e.Key())
	if !ok {
		return
	}
	r.disabledMu.Lock()
	defer r.disabledMu.Unlock()
	if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
		delete(r.disabled, key)
		return
	}
	var st TargetState
	if json.Unmarshal(e.Value(), &st) == nil {
		st.Disabled = true
		r.disabled[key] = st
	}
}

func (r *Router) isDisabled(key targetKey) bool {
	r.disabledMu.RLock()
	defer r.disabledMu.RUnlock()
	return r.disabled[key].Disabled
}

// disable records that key's target is gone, locally at once and in the
// bucket for the other replicas and the next start.
func (r *Router) disable(ctx context.Context, key targetKey, status int, reason string) error {
	st := TargetState{Disabled: true, Reason: reason, Status: status, Since: time.Now().UTC()}
	r.disabledMu.Lock()
	r.disabled[key] = st
	r.disabledMu.Unlock()
	if r.kv == nil {
		return nil
	}
	body, _ := json.Marshal(st)
	if _, err := r.kv.Put(ctx, kvKey(key), body); err != nil {
		return fmt.Errorf("record disabled target: %w", err)
	}
	return nil
}

// TargetState reports the state of one target of a rule.
func (r *Router) TargetState(busName, rule, target string) TargetState {
	r.disabledMu.RLock()
	defer r.disabledMu.RUnlock()
	return r.disabled[targetKey{busName, rule, target}]
}

// EnableTarget resumes deliveries to a target disabled after a 410; its
// queued deliveries follow. Enabling a target that is not disabled does
// nothing. ErrNoSuchTarget when the rules have no such target.
func (r *Router) EnableTarget(ctx context.Context, busName, rule, target string) error {
	key := targetKey{busName, rule, target}
	if r.table.Load().bindings[key] == nil {
		return fmt.Errorf("%w: bus %q rule %q target %q", ErrNoSuchTarget, busName, rule, target)
	}
	if err := r.clearDisabled(ctx, key); err != nil {
		return fmt.Errorf("enable target: %w", err)
	}
	return nil
}

// clearDisabled forgets that key's target was disabled, locally and in
// the bucket.
func (r *Router) clearDisabled(ctx context.Context, key targetKey) error {
	if r.kv != nil {
		if err := r.kv.Delete(ctx, kvKey(key)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return err
		}
	}
	r.disabledMu.Lock()
	delete(r.disabled, key)
	r.disabledMu.Unlock()
	return nil
}

// forgetDisabled clears the state of a retired target, so that a target
// of the same name added later starts enabled; a failure is only logged.
func (r *Router) forgetDisabled(ctx context.Context, key targetKey) {
	if err := r.clearDisabled(ctx, key); err != nil {
		r.opts.log.Warn().Err(err).Str("rule", key.rule).Str("target", key.target).Msg("forgetting a retired target's disabled state")
	}
}
