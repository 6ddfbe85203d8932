package topics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Errors of writes racing other writes.
var (
	// ErrConflict: the topic kept changing under Modify; retrying is safe.
	ErrConflict = errors.New("topic changed meanwhile")
	// ErrRevision: Delete was given a revision the topic is no longer at.
	ErrRevision = errors.New("topic is at another revision")
)

// modifyAttempts bounds Modify's reads and writes when other writers keep
// changing the topic between them; each lost race waits a random while,
// up to modifyBackoff times the attempt number (at most maxBackoff), so
// writers that collided do not collide again in step.
const (
	modifyAttempts = 50
	modifyBackoff  = 2 * time.Millisecond
	maxBackoff     = 50 * time.Millisecond
)

// Modify stores change(current) as API topic name, where current is the
// topic as the bucket holds it now (exists false, and current only named,
// when there is none). The write is conditional on the revision read
// (a create when there was none), so a concurrent change of the topic is
// never lost: Modify reads again and calls change again, up to
// modifyAttempts times. change may return an error (such as ErrNotFound)
// to store nothing; Modify returns it. Errors: change's, ErrInvalid
// (wrapped, with what is wrong), ErrReadOnly, ErrConflict, ErrUnavailable.
func (r *Registry) Modify(ctx context.Context, name string, change func(current Topic, exists bool) (Topic, error)) (t Topic, existed bool, err error) {
	if r.isFileTopic(name) {
		return Topic{}, false, fmt.Errorf("%w: %s", ErrReadOnly, name)
	}
	kv, err := r.bucket()
	if err != nil {
		return Topic{}, false, err
	}
	for attempt := range modifyAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return Topic{}, false, err
			}
		}
		cur, exists, err := r.read(ctx, kv, name)
		if err != nil {
			return Topic{}, false, err
		}
		next, err := change(cur, exists)
		if err != nil {
			return Topic{}, exists, err
		}
		next.Name = name
		t, err := r.write(ctx, kv, next, cur.Revision)
		if errors.Is(err, ErrConflict) {
			continue
		}
		return t, exists, err
	}
	return Topic{}, false, fmt.Errorf("%w: %s changed %d times while being written; retry", ErrConflict, name, modifyAttempts)
}

// backoff waits before Modify's attempt (from 1); the error is ctx's.
func backoff(ctx context.Context, attempt int) error {
	d := rand.N(min(time.Duration(attempt)*modifyBackoff, maxBackoff))
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	case <-time.After(d):
		return nil
	}
}

// Put stores t (its name, region, project and subscriptions) as an API
// topic, replacing one of that name whatever its revision. Errors as
// Modify's.
func (r *Registry) Put(ctx context.Context, t Topic) (Topic, error) {
	t, _, err := r.Modify(ctx, t.Name, func(Topic, bool) (Topic, error) { return t, nil })
	return t, err
}

// read is topic name as the bucket holds it (its Revision set).
func (r *Registry) read(ctx context.Context, kv jetstream.KeyValue, name string) (Topic, bool, error) {
	e, err := kv.Get(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return Topic{Name: name}, false, nil
	case errors.Is(err, jetstream.ErrInvalidKey):
		return Topic{}, false, invalid("topic name %q: want 1-256 letters, digits, _ or -, starting with a letter or digit", name)
	case err != nil:
		return Topic{}, false, fmt.Errorf("%w: get %s: %w", ErrUnavailable, name, err)
	}
	t, ok := r.decode(e)
	if !ok { // undecodable: logged; replaced by the write
		return Topic{Name: name, Revision: e.Revision()}, false, nil
	}
	return t, true, nil
}

// write checks and stores t if the topic's revision is still rev (0: it
// does not exist). Errors: ErrInvalid, ErrConflict, ErrUnavailable.
func (r *Registry) write(ctx context.Context, kv jetstream.KeyValue, t Topic, rev uint64) (Topic, error) {
	t.Origin, t.Revision = "", 0
	if err := t.normalize(func(urn string) bool { _, ok := r.Function(urn); return ok }); err != nil {
		return Topic{}, err
	}
	if err := r.checkSubscriptions(t); err != nil {
		return Topic{}, err
	}
	raw, _ := json.Marshal(t)
	var err error
	if rev == 0 {
		t.Revision, err = kv.Create(ctx, t.Name, raw)
	} else {
		t.Revision, err = kv.Update(ctx, t.Name, raw, rev)
	}
	if conflict(err) {
		return Topic{}, fmt.Errorf("%w: %s", ErrConflict, t.Name)
	}
	if err != nil {
		return Topic{}, fmt.Errorf("%w: put %s: %w", ErrUnavailable, t.Name, err)
	}
	t.Origin = OriginAPI
	r.remember(t)
	return t, nil
}

// remember keeps t, so the caller reads its own write before the watch
// delivers it; an older revision the watch delivered late is no reason
// to forget it.
func (r *Registry) remember(t Topic) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.api[t.Name]; !ok || old.Revision < t.Revision {
		r.api[t.Name] = t
	}
}

func conflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// Delete removes API topic name; with rev > 0, only if its revision is
// still rev. Errors: ErrNotFound, ErrReadOnly, ErrRevision, ErrUnavailable.
func (r *Registry) Delete(ctx context.Context, name string, rev uint64) error {
	if r.isFileTopic(name) {
		return fmt.Errorf("%w: %s", ErrReadOnly, name)
	}
	kv, err := r.bucket()
	if err != nil {
		return err
	}
	cur, exists, err := r.read(ctx, kv, name)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	var opts []jetstream.KVDeleteOpt
	if rev > 0 {
		opts = append(opts, jetstream.LastRevision(rev))
	}
	err = kv.Delete(ctx, name, opts...)
	if conflict(err) {
		return fmt.Errorf("%w: %s is at revision %d, not %d", ErrRevision, name, cur.Revision, rev)
	}
	if err != nil {
		return fmt.Errorf("%w: delete %s: %w", ErrUnavailable, name, err)
	}
	r.mu.Lock()
	delete(r.api, name)
	r.mu.Unlock()
	return nil
}
