package ruleset

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// errWatchClosed: the watcher's channel closed before it had delivered
// the bucket's current values.
var errWatchClosed = errors.New("the watch closed before the current rules were read")

// Bounds of the wait between attempts to watch the bucket again.
const (
	rewatchFirst = 100 * time.Millisecond
	rewatchMax   = 10 * time.Second
)

// watch follows the bucket until ctx ends. nats.go's watcher is an ordered
// consumer that gives up, closing its channel, when re-creating its
// consumer fails with an error it does not retry (JetStream disabled for
// the account, the bucket's stream not found), as it does while JetStream
// reopens its streams after a full disk. Then the bucket is watched anew,
// waiting longer after each failed attempt, and its current contents are
// read again, so no change made meanwhile is lost.
func (m *Manager) watch(ctx context.Context, w jetstream.KeyWatcher) {
	for {
		closed := m.follow(ctx, w)
		stopWatcher(w)
		if !closed {
			return
		}
		m.opts.log.Warn().Str("bucket", m.opts.bucket).Msg("rules bucket watch closed: watching it again")
		if w = m.rewatch(ctx); w == nil {
			return
		}
		m.opts.log.Info().Str("bucket", m.opts.bucket).Msg("rules bucket watched again: API rule changes are applied")
	}
}

// rewatch watches the bucket again and applies its current contents,
// retrying with a growing wait; nil once ctx ends.
func (m *Manager) rewatch(ctx context.Context) jetstream.KeyWatcher {
	wait := rewatchFirst
	var last string
	for {
		w, err := m.resync(ctx)
		if err == nil {
			return w
		}
		if ctx.Err() != nil {
			return nil
		}
		if err.Error() != last { // log on change only: this repeats while the bus is away
			last = err.Error()
			m.opts.log.Warn().Err(err).Str("bucket", m.opts.bucket).Msg("rules bucket not watched yet: retrying")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, rewatchMax)
	}
}

// resync starts a watcher and applies the bucket's current contents: a
// rule whose key is no longer in the bucket is removed. Then it rebuilds
// if anything changed.
func (m *Manager) resync(ctx context.Context) (jetstream.KeyWatcher, error) {
	w, err := m.kv.WatchAll(ctx)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen, err := m.readCurrent(ctx, w)
	if err != nil {
		stopWatcher(w)
		return nil, err
	}
	for key, s := range m.api {
		if !seen[key] {
			delete(m.api, key)
			m.removed = append(m.removed, s)
			m.touched[key] = true
		}
	}
	if len(m.touched) > 0 || m.retry {
		_ = m.rebuild(ctx, "api", false)
	}
	return w, nil
}
