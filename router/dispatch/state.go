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

// StateBucket is the NATS KV bucket that keeps what the router knows of a
// target beyond its rule: disabled after a 410, and the endpoint's consent
// (confirm, handshake). Every replica watches it, so they stop and resume
// delivering to a target together, and it survives restarts. Keys are
// "<bus>.<rule>.<target>".
const StateBucket = "auditbus-target-state"

// TargetState is what the router knows about one target beyond its rule.
type TargetState struct {
	// Disabled: the target answered 410 Gone, so nothing is delivered to
	// it until an operator re-enables it (EnableTarget); its deliveries
	// stay queued meanwhile.
	Disabled bool      `json:"disabled"`
	Reason   string    `json:"reason,omitempty"`
	Status   int       `json:"status,omitempty"`
	Since    time.Time `json:"since,omitzero"`
	// Subscription is the endpoint's consent, for a target with confirm
	// or handshake; nil before the first consent request.
	Subscription *Subscription `json:"subscription,omitempty"`
}

// Subscription states.
const (
	SubscriptionPending      = "pending"      // asked; deliveries held
	SubscriptionConfirmed    = "confirmed"    // consented; deliveries flow
	SubscriptionUnsubscribed = "unsubscribed" // the endpoint GET its unsubscribe_url; deliveries held
)

// Subscription is one target's consent: deliveries are held (queued, not
// lost) until Status is confirmed for the target's current mode and URL.
type Subscription struct {
	Status string `json:"status"`
	Mode   string `json:"mode"` // sinks.ConsentConfirm or sinks.ConsentHandshake
	// Endpoint is the URL consent was asked of, redacted (sinks.RedactURL);
	// a new URL asks anew.
	Endpoint string `json:"endpoint"`
	// Requests counts the consent requests sent in this round.
	Requests       int       `json:"requests"`
	LastRequest    time.Time `json:"last_request,omitzero"`
	NextRequest    time.Time `json:"next_request,omitzero"`
	LastError      string    `json:"last_error,omitempty"`
	ConfirmedAt    time.Time `json:"confirmed_at,omitzero"`
	UnsubscribedAt time.Time `json:"unsubscribed_at,omitzero"`
	// RatePerMinute is the handshake's WebHook-Allowed-Rate: at most this
	// many deliveries a minute (on each replica); 0 is no cap.
	RatePerMinute int `json:"rate_per_minute,omitempty"`
}

// record is a target's state as stored: the token in its subscribe and
// unsubscribe URLs, and the digest of the URL the subscription is for,
// are kept here and never shown by TargetState.
type record struct {
	TargetState
	Token       string `json:"token,omitempty"`
	EndpointSum string `json:"endpoint_sum,omitempty"`
}

func (rec *record) empty() bool { return !rec.Disabled && rec.Subscription == nil }

// cached is the local copy of a key: rev orders it against the watch, so
// a stale update never overwrites a newer one this replica wrote itself.
type cached struct {
	rec record
	rev uint64
}

func kvKey(k targetKey) string { return k.bus + "." + k.rule + "." + k.target }

func keyOf(kvKey string) (targetKey, bool) {
	parts := strings.Split(kvKey, ".")
	if len(parts) != 3 {
		return targetKey{}, false
	}
	return targetKey{parts[0], parts[1], parts[2]}, true
}

// openState creates the bucket when missing.
func (r *Router) openState(ctx context.Context) error {
	kv, err := r.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      StateBucket,
		Description: "auditbus: target state (disabled after 410 Gone, endpoint consent)",
		Storage:     jetstream.FileStorage,
		Replicas:    max(r.opts.replicas, 1),
	})
	if err != nil {
		return fmt.Errorf("bucket %s: %w", StateBucket, err)
	}
	r.kv = kv
	return nil
}

func (r *Router) applyState(e jetstream.KeyValueEntry) {
	key, ok := keyOf(e.Key())
	if !ok {
		return
	}
	var rec record
	if op := e.Operation(); op == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &rec) != nil {
		return
	}
	r.setCached(key, rec, e.Revision())
}

// setCached keeps rec unless the cache already holds a newer revision. A
// deletion is cached as an empty record, so that it, too, is ordered.
func (r *Router) setCached(key targetKey, rec record, rev uint64) {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	if old, ok := r.states[key]; ok && old.rev > rev {
		return
	}
	r.states[key] = cached{rec: rec, rev: rev}
	r.kickSweep() // a target released may have a backlog to drain
}

// stateOf returns the cached record of key and its revision (0: none).
func (r *Router) stateOf(key targetKey) (record, uint64) {
	r.stateMu.RLock()
	defer r.stateMu.RUnlock()
	c := r.states[key]
	return c.rec, c.rev
}

// TargetState reports the state of one target of a rule.
func (r *Router) TargetState(busName, rule, target string) TargetState {
	rec, _ := r.stateOf(targetKey{busName, rule, target})
	return rec.TargetState
}

// stateRetries bounds the compare-and-set loop of updateState: each retry
// means another replica or an endpoint's GET changed the key meanwhile.
const stateRetries = 5

// updateState changes key's record by mutate, which sees the stored
// record (a copy it may modify) and reports whether it changed it. The
// write is a compare-and-set on the revision read, retried from a fresh
// read when another writer came first, so concurrent updates from
// replicas and API calls never overwrite each other. An empty record is
// deleted.
func (r *Router) updateState(ctx context.Context, key targetKey, mutate func(*record) bool) (record, bool, error) {
	var err error
	for range stateRetries {
		rec, rev, rerr := r.readState(ctx, key)
		if rerr != nil {
			return rec, false, rerr
		}
		if !mutate(&rec) {
			return rec, false, nil
		}
		var newRev uint64
		if newRev, err = r.writeState(ctx, key, rec, rev); err == nil {
			r.setCached(key, rec, newRev)
			return rec, true, nil
		}
	}
	return record{}, false, fmt.Errorf("target state %s: %w", kvKey(key), err)
}

// readState returns the stored record of key and its revision, 0 when
// there is none.
func (r *Router) readState(ctx context.Context, key targetKey) (record, uint64, error) {
	var rec record
	if r.kv == nil {
		return rec, 0, errNotOpen
	}
	e, err := r.kv.Get(ctx, kvKey(key))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return rec, 0, nil
	case err == nil:
		err = json.Unmarshal(e.Value(), &rec)
	}
	if err != nil {
		return rec, 0, fmt.Errorf("target state %s: %w", kvKey(key), err)
	}
	return rec, e.Revision(), nil
}

// errNotOpen: the target state is changed only once Open made the bucket.
var errNotOpen = errors.New("the router is not open")

// writeState stores rec if key is still at rev, and returns the new
// revision.
func (r *Router) writeState(ctx context.Context, key targetKey, rec record, rev uint64) (uint64, error) {
	switch {
	case rec.empty() && rev == 0:
		return 0, nil
	case rec.empty():
		if err := r.kv.Delete(ctx, kvKey(key), jetstream.LastRevision(rev)); err != nil {
			return 0, err
		}
		// The deletion's revision is not returned; rev+1 orders it after
		// what was read, and the watch brings the true one.
		return rev + 1, nil
	case rev == 0:
		body, _ := json.Marshal(rec)
		return r.kv.Create(ctx, kvKey(key), body)
	default:
		body, _ := json.Marshal(rec)
		return r.kv.Update(ctx, kvKey(key), body, rev)
	}
}
