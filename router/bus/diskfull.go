package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// ErrDiskFull reports that the embedded JetStream could not write its
// store because the filesystem of the data directory is out of space
// (ENOSPC), before JetStream's own storage limit (ErrStorageFull) was
// reached. The error names the file nats-server failed to write and the
// free space. Nothing of the refused request is stored by the refusal;
// events of it acknowledged before the disk filled are, and re-sending the
// whole request is safe. Nothing more is stored until the disk has room
// and DiskWatch has reopened the streams.
var ErrDiskFull = errors.New("the bus could not write: the data dir's disk is full")

// nats-server (v2.15, filestore and stream) keeps the first write error of
// a stream's store and fails every later write with it, answering none of
// those publishes (they time out), until the store is opened again. Only
// its health report says why; the error is the operating system's text.
var noSpaceText = syscall.ENOSPC.Error()

// DiskWatch follows an embedded server's store for a disk-full write
// error and, once the disk has room again, reopens the streams of the
// account auditbus uses, afresh from what is on disk (nats-server's own
// recovery of a store; messages it acknowledged are there, the one that
// failed was never acknowledged). The fault is set from the first
// out-of-space error until every stream and durable consumer known before
// the reopening is back, so nothing that obeys Fault or Settled touches a
// half-recovered account. A nil *DiskWatch (an external NATS server)
// reports nothing.
type DiskWatch struct {
	ns       *server.Server
	storeDir string // what the server was given as StoreDir
	payload  uint64 // the largest message the server carries
	log      zerolog.Logger

	fault atomic.Pointer[error] // wraps ErrDiskFull; nil while the store can write
	// reopens counts reopenings begun and ended: odd while one is under
	// way. A health report read across a change is stale.
	reopens atomic.Uint64

	mu   sync.Mutex    // orders fault changes against reopenings; never held across I/O
	calm chan struct{} // closed while there is no fault

	reopening sync.Mutex      // one reopening at a time; guards known
	known     map[string]bool // the streams and durables to see back, from the last inventory
	// beforeRecover, set by tests only, runs inside the server's
	// EnableJetStream after the account is live and before any stream is
	// recovered: the window Fault and Settled hide.
	beforeRecover func()
}

// NewDiskWatch watches ns, started by StartEmbedded from cfg.
func NewDiskWatch(ns *server.Server, cfg EmbeddedConfig, log zerolog.Logger) *DiskWatch {
	cfg = cfg.withDefaults()
	calm := make(chan struct{})
	close(calm)
	return &DiskWatch{ns: ns, storeDir: cfg.storeDir(), payload: uint64(cfg.MaxPayload), log: log, calm: calm}
}

// Fault returns the disk-full error (wrapping ErrDiskFull) from the first
// out-of-space write Check found until the streams are reopened and whole
// again, and nil otherwise. It never blocks and does not look at the
// server: cheap enough for every publish.
func (w *DiskWatch) Fault() error {
	if w == nil {
		return nil
	}
	if err := w.fault.Load(); err != nil {
		return *err
	}
	return nil
}

// Check returns Fault, or when there is none asks the server's health
// report for a store that failed to write for lack of space and sets the
// fault if one did. Only a completed reopening clears it: nats-server's
// store stays failed until then.
func (w *DiskWatch) Check() error {
	if w == nil {
		return nil
	}
	if err := w.Fault(); err != nil {
		return err
	}
	gen := w.reopens.Load()
	cause := w.noSpace()
	if cause == "" {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.reopens.Load() != gen { // read before a reopening that has begun or ended since
		return w.Fault()
	}
	if err := w.Fault(); err != nil {
		return err
	}
	free, _, _ := freeBytes(w.storeDir)
	err := fmt.Errorf("%w (%s; %d bytes free on the data dir's filesystem)", ErrDiskFull, cause, free)
	w.fault.Store(&err)
	w.calm = make(chan struct{})
	w.log.Error().Err(err).Str("store_dir", w.storeDir).
		Msg("JetStream's disk is full: events are refused with 507 until it has room again")
	return err
}

// clearFault ends the fault once a reopening brought everything back. The
// caller holds w.mu.
func (w *DiskWatch) clearFault() {
	if w.fault.Swap(nil) != nil {
		close(w.calm)
	}
}

// Epoch identifies the reopenings done so far; see Settled.
type Epoch uint64

// Settled waits until there is no fault (no full disk, no reopening under
// way or unfinished) and returns the current Epoch. A client of the bus
// that takes "consumer not found" or "stream not found" as a reason to
// create one calls it first, confirms with an Info call, and creates only
// if Reopened(epoch) is still false: while the streams are reopened
// JetStream answers "not found" for what it has not recovered yet. It
// fails with ctx's error when ctx ends first. A nil *DiskWatch returns at
// once.
func (w *DiskWatch) Settled(ctx context.Context) (Epoch, error) {
	if w == nil {
		return 0, nil
	}
	for {
		w.mu.Lock()
		calm, gen := w.calm, w.reopens.Load()
		w.mu.Unlock()
		select {
		case <-calm:
			if gen%2 == 0 && w.Fault() == nil {
				return Epoch(gen), nil
			}
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for the bus's store to be whole: %w", ctx.Err())
		}
	}
}

// Reopened reports whether a reopening began since Settled returned e.
func (w *DiskWatch) Reopened(e Epoch) bool {
	return w != nil && w.reopens.Load() != uint64(e)
}

// noSpace is the health report's first out-of-space write error, or "".
func (w *DiskWatch) noSpace() string {
	h := w.ns.Healthz(&server.HealthzOptions{Details: true})
	for _, e := range h.Errors {
		if (e.Type == server.HealthzErrorStream || e.Type == server.HealthzErrorConsumer) && strings.Contains(e.Error, noSpaceText) {
			return e.Error
		}
	}
	return ""
}

// freeBytes is the space an unprivileged writer has on dir's filesystem,
// and the filesystem's size.
func freeBytes(dir string) (free, size uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}
