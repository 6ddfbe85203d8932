package dispatch

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// pull hands each message of cons to handle, in a goroutine of its own
// with the work context, at most workers at once, while ctx lasts and
// goOn (nil: always; told whether emptyWait passed with nothing new) says
// so; it returns once every handler returned. A consumer deleted under it
// (or whose heartbeats stopped) is healed.
//
// Messages flow through one long-lived pull subscription that buffers at
// most workers of them, not a Fetch per batch: a fetch ends on the
// client's deadline, and what the server sent just before it expired the
// request on its side was dropped and came back only after the ack wait
// (30 s stalls under load). What the subscription still buffers when
// pulling stops is handed back at once (Nak), for another puller.
func (r *Router) pull(ctx, work context.Context, cons jetstream.Consumer, workers int, handle func(context.Context, jetstream.Msg), goOn func(empty bool) bool) {
	var inflight sync.WaitGroup
	defer inflight.Wait()
	sem := make(chan struct{}, workers)
	for ctx.Err() == nil {
		it, err := cons.Messages(jetstream.PullMaxMessages(workers), jetstream.PullExpiry(pullExpiry),
			jetstream.WithMessagesErrOnMissingHeartbeat(true))
		if err == nil {
			err = r.serveMessages(ctx, work, it, sem, &inflight, handle, goOn)
			handBack(it)
			if err == nil {
				return
			}
		}
		r.heal(ctx, err)
		if goOn != nil && !goOn(true) {
			return
		}
		if ctx.Err() == nil && !errors.Is(err, jetstream.ErrConsumerDeleted) {
			r.opts.log.Error().Err(err).Str("consumer", cons.CachedInfo().Name).Msg("pull")
			sleep(ctx, time.Second)
		}
	}
}

// pullExpiry is how long one pull request of a subscription lasts on the
// server; the heartbeats it asks for (every half of it) tell within
// pullExpiry a consumer that is gone without a word (its stream deleted
// or being reopened: no 409 reaches the pull). An idle subscription pulls
// again that often, a request each.
const pullExpiry = 2 * time.Second

// serveMessages runs handle on each message of it as a worker (a place in
// sem) frees up. It returns nil when pulling is to stop (ctx ended, goOn
// said no), or the error that ended it.
func (r *Router) serveMessages(ctx, work context.Context, it jetstream.MessagesContext, sem chan struct{}, inflight *sync.WaitGroup, handle func(context.Context, jetstream.Msg), goOn func(empty bool) bool) error {
	for empty := false; goOn == nil || goOn(empty); {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		msg, err := next(ctx, it, goOn != nil)
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				return nil
			}
			if empty = errors.Is(err, context.DeadlineExceeded); empty {
				continue
			}
			if errors.Is(err, jetstream.ErrNoHeartbeat) {
				// The subscription goes on (it pulls again): a new one would
				// drop what the server sends to this one meanwhile, for the
				// ack wait. Only a consumer that is gone is made again.
				r.heal(ctx, err)
				continue
			}
			return err
		}
		empty = false
		inflight.Go(func() {
			defer func() { <-sem }()
			handle(work, msg)
		})
	}
	return nil
}

// next waits for its next message while ctx lasts; for at most emptyWait
// when timed (a drain, which ends once its backlog is empty), ending with
// context.DeadlineExceeded then.
func next(ctx context.Context, it jetstream.MessagesContext, timed bool) (jetstream.Msg, error) {
	if !timed {
		return it.Next(jetstream.NextContext(ctx))
	}
	tctx, cancel := context.WithTimeout(ctx, emptyWait)
	defer cancel()
	return it.Next(jetstream.NextContext(tctx))
}

// emptyWait is how long a drain waits for a message before it asks
// whether its backlog is empty.
const emptyWait = time.Second

// handBack stops it and hands back (Nak) what it still buffers, so that
// another puller, or this one again, gets it at once rather than after
// the ack wait.
func handBack(it jetstream.MessagesContext) {
	it.Drain()
	for {
		msg, err := it.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			return
		}
		_ = msg.Nak()
	}
}
