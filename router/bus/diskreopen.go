package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Hysteresis of the reopening: the filesystem must have this much room
// (see room), and reopenings that follow one another closely wait longer
// each time, so a disk hovering near full does not make JetStream reopen
// every store every few seconds.
const (
	marginMin   = 64 << 20         // bytes free wanted before reopening, on all but small filesystems
	firstPause  = 10 * time.Second // between a reopening and the next one
	maxPause    = 5 * time.Minute
	calmEnough  = 10 * time.Minute // after this long the pause starts again from firstPause
	roomPerMsg  = 1 << 20          // besides the largest message: indexes and consumer state
	smallFSPart = 8                // at most 1/8 of a small filesystem is asked for
)

// Run checks the store every interval until ctx ends; while the disk is
// full it reopens the streams once the filesystem has room (see room),
// pausing between reopenings that follow closely. It logs when the state
// changes, not at every check.
func (w *DiskWatch) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var pace reopenPace
	waiting := false // "waiting for room" logged for this fault
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.Check() == nil || !pace.due(time.Now()) {
			continue
		}
		free, need, err := w.room()
		if err != nil || free < need {
			if !waiting {
				waiting = true
				w.log.Warn().Err(err).Uint64("free_bytes", free).Uint64("needed_bytes", need).Str("store_dir", w.storeDir).
					Msg("JetStream's disk is still full: its streams are reopened once the filesystem has room")
			}
			continue
		}
		waiting = false
		pace.reopened(time.Now())
		if err := w.reopen(); err != nil {
			w.log.Error().Err(err).Dur("retry_in", pace.pause).Msg("reopening JetStream's streams failed: events stay refused")
			continue
		}
		w.log.Info().Uint64("free_bytes", free).Msg("JetStream's disk has room again: its streams were reopened from disk, events are accepted")
	}
}

// room is the free space on the store's filesystem and what reopening
// waits for: 64 MiB or 1% of the filesystem, whichever is more, but no
// more than an eighth of a small filesystem, and never less than the
// largest message and 1 MiB.
func (w *DiskWatch) room() (free, need uint64, err error) {
	free, size, err := freeBytes(w.storeDir)
	if err != nil {
		return 0, 0, err
	}
	return free, roomFor(size, w.payload), nil
}

// roomFor is room's need on a filesystem of size bytes.
func roomFor(size, payload uint64) uint64 {
	return max(payload+roomPerMsg, min(marginMin, size/smallFSPart), size/100)
}

// reopenPace spaces reopenings: the first of a calm period is at once,
// each following one waits twice as long as the last, up to maxPause.
type reopenPace struct {
	last  time.Time
	pause time.Duration
}

func (p *reopenPace) due(now time.Time) bool {
	return p.last.IsZero() || now.Sub(p.last) >= p.pause
}

func (p *reopenPace) reopened(now time.Time) {
	if p.last.IsZero() || now.Sub(p.last) >= calmEnough {
		p.pause = firstPause
	} else {
		p.pause = min(2*p.pause, maxPause)
	}
	p.last = now
}

// reopen disables and enables JetStream for the account auditbus uses (the
// global one): that stops its streams, keeping their files, and recovers
// them from disk. (Restarting the server's whole JetStream would do the
// same, but nats-server v2.15 then replaces its API queues unsynchronised
// with requests in flight: a data race.) nats-server makes the account
// live before it recovers the streams and then their consumers, so the
// fault stays set until everything known before is back.
func (w *DiskWatch) reopen() error {
	w.reopening.Lock()
	defer w.reopening.Unlock()
	acc := w.ns.GlobalAccount()
	known, err := w.inventory(acc)
	if err != nil {
		return err
	}
	w.reopens.Add(1) // odd: under way
	err = w.restart(acc)
	if err == nil {
		err = w.whole(acc, known)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		w.clearFault()
	}
	w.reopens.Add(1)
	return err
}

// restart stops the account's JetStream (unless a failed reopening left it
// stopped) and enables it again, recovering the streams one after the
// other in a goroutine it owns.
func (w *DiskWatch) restart(acc *server.Account) error {
	if acc.JetStreamEnabled() {
		if err := acc.DisableJetStream(); err != nil {
			return fmt.Errorf("stop JetStream for the account: %w", err)
		}
	}
	tasks := make(chan func())
	var wg sync.WaitGroup
	wg.Go(func() {
		first := true
		for task := range tasks {
			if first && w.beforeRecover != nil {
				w.beforeRecover()
			}
			first = false
			task()
		}
	})
	err := acc.EnableJetStream(nil, tasks)
	close(tasks)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("reopen JetStream for the account: %w", err)
	}
	return nil
}

// inventory names the account's streams and durable consumers, to check
// they are all back after a reopening. While a failed reopening left the
// account without JetStream, it is the last inventory taken.
func (w *DiskWatch) inventory(acc *server.Account) (map[string]bool, error) {
	if !acc.JetStreamEnabled() {
		return w.known, nil
	}
	d, err := w.ns.JszAccount(&server.JSzOptions{Account: acc.Name, Streams: true, Consumer: true, Config: true})
	if err != nil {
		return nil, fmt.Errorf("list the streams to reopen: %w", err)
	}
	known := map[string]bool{}
	for _, st := range d.Streams {
		known["stream "+st.Name] = true
		for _, c := range st.Consumer {
			if c.Config != nil && c.Config.Durable != "" {
				known["consumer "+st.Name+" > "+c.Name] = true
			}
		}
	}
	w.known = known
	return known, nil
}

// errNotWhole: a stream or durable consumer did not come back.
var errNotWhole = errors.New("not everything came back from disk")

// whole checks that every stream and durable consumer in known is back.
func (w *DiskWatch) whole(acc *server.Account, known map[string]bool) error {
	now, err := w.inventory(acc)
	if err != nil {
		return err
	}
	var missing []string
	for k := range known {
		if !now[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		w.known = known // keep waiting for what is missing
		return fmt.Errorf("%w: %s (see the server's log)", errNotWhole, strings.Join(missing, ", "))
	}
	return nil
}
