package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// errWatchClosed: the watcher's channel closed before it delivered the
// bucket's current values.
var errWatchClosed = errors.New("the watch closed before the current states were read")

// Bounds of the wait between attempts to watch the state bucket again.
const (
	rewatchFirst = 100 * time.Millisecond
	rewatchMax   = 10 * time.Second
)

// watchState loads the target states, then returns a function that
// follows changes until ctx ends (run it in a goroutine the caller owns).
//
// nats.go's watcher is an ordered consumer that gives up, closing its
// channel, when re-creating its consumer fails with an error it does not
// retry, as it does while JetStream reopens its streams after a full
// disk. Then the bucket is watched anew, once the store is whole, waiting
// longer after each failed attempt (a failure logged once per distinct
// error), and its current contents are read again, so neither a change
// nor a deletion made meanwhile is missed (a disable written by another
// replica, a consent given).
func (r *Router) watchState(ctx context.Context) (follow func(), err error) {
	w, err := r.resyncState(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", StateBucket, err)
	}
	return func() {
		var err error
		for {
			select {
			case <-ctx.Done():
				_ = w.Stop()
				return
			case e, ok := <-w.Updates():
				if ok {
					if e != nil {
						r.applyState(e)
					}
					continue
				}
			}
			_ = w.Stop()
			r.opts.log.Warn().Str("bucket", StateBucket).Msg("target state watch closed: watching it again")
			for wait, last := rewatchFirst, ""; ; wait = min(2*wait, rewatchMax) {
				if _, err := r.opts.disk.Settled(ctx); err != nil {
					return
				}
				if w, err = r.resyncState(ctx); err == nil {
					break
				}
				if ctx.Err() != nil {
					return
				}
				if err.Error() != last {
					last = err.Error()
					r.opts.log.Warn().Err(err).Str("bucket", StateBucket).Msg("target state not watched yet: retrying")
				}
				sleep(ctx, wait)
			}
			r.opts.log.Info().Str("bucket", StateBucket).Msg("target state watched again")
		}
	}, nil
}

// resyncState starts a watcher and applies the bucket's current values;
// a cached key the bucket no longer holds is cached as deleted.
func (r *Router) resyncState(ctx context.Context) (jetstream.KeyWatcher, error) {
	w, err := r.kv.WatchAll(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[targetKey]bool{}
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		select {
		case e, ok = <-w.Updates():
		case <-ctx.Done():
			_ = w.Stop()
			return nil, ctx.Err()
		}
		if !ok {
			return nil, errWatchClosed
		}
		if e == nil { // initial values done
			break
		}
		if key, ok := keyOf(e.Key()); ok {
			seen[key] = true
		}
		r.applyState(e)
	}
	r.forgetUnseen(seen)
	return w, nil
}

// forgetUnseen caches every key not in seen as deleted: its deletion came
// while nothing watched. A key never stored is cached empty already.
func (r *Router) forgetUnseen(seen map[targetKey]bool) {
	r.stateMu.Lock()
	var gone []targetKey
	for key, c := range r.states {
		if !seen[key] && !c.rec.empty() {
			gone = append(gone, key)
		}
	}
	r.stateMu.Unlock()
	for _, key := range gone {
		_, rev := r.stateOf(key)
		r.setCached(key, record{}, rev+1)
	}
}
