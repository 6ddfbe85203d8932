package dispatch

import (
	"sync"
	"time"
)

// crew runs the direct attempts (direct.go) on goroutines it keeps for a
// while after their attempt, waiting for the next. A new goroutine per
// attempt grew its stack, copying it, on each of the first calls deep
// into net/http: a sixth of an attempt's CPU. A kept one has grown it
// already (until the GC shrinks the stack of one that idles).
type crew struct {
	tasks chan func()   // unbuffered: a send succeeds only when a member waits
	quit  chan struct{} // closed by stop: idle members leave
	idle  time.Duration // how long a member waits for a task before it leaves
	wg    sync.WaitGroup
	once  sync.Once
}

// crewIdle is how long a member of the crew waits for another attempt: a
// target delivering a few times a second keeps its goroutines, a burst's
// extra goroutines leave soon after it.
const crewIdle = 5 * time.Second

func newCrew(idle time.Duration) *crew {
	return &crew{tasks: make(chan func()), quit: make(chan struct{}), idle: idle}
}

// Go runs f on a member waiting for a task, or on a new member. It never
// blocks. After stop, f still runs, on a member that then leaves.
func (c *crew) Go(f func()) {
	select {
	case c.tasks <- f:
	default:
		c.wg.Go(func() {
			f()
			c.serve()
		})
	}
}

// serve runs tasks until none came for the idle time or the crew stops.
func (c *crew) serve() {
	t := time.NewTimer(c.idle)
	defer t.Stop()
	for {
		select {
		case f := <-c.tasks:
			f()
			t.Reset(c.idle)
		case <-t.C:
			return
		case <-c.quit:
			return
		}
	}
}

// stop makes idle members leave and waits for the busy ones to finish
// their task. Safe to call twice.
func (c *crew) stop() {
	c.once.Do(func() { close(c.quit) })
	c.wg.Wait()
}
