package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

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
// failed was never acknowledged). A nil *DiskWatch
// (an external NATS server) reports nothing.
type DiskWatch struct {
	ns       *server.Server
	storeDir string // what the server was given as StoreDir
	room     uint64 // free bytes the filesystem needs before the streams are reopened
	log      zerolog.Logger

	mu    sync.Mutex
	fault error // wraps ErrDiskFull while the store cannot write
}

// NewDiskWatch watches ns, started by StartEmbedded from cfg. The streams
// are reopened only once the filesystem has room for the largest message
// (cfg's max payload) and 1 MiB for indexes and consumer state besides.
func NewDiskWatch(ns *server.Server, cfg EmbeddedConfig, log zerolog.Logger) *DiskWatch {
	cfg = cfg.withDefaults()
	return &DiskWatch{ns: ns, storeDir: cfg.storeDir(), room: uint64(cfg.MaxPayload) + 1<<20, log: log}
}

// Fault returns the disk-full error (wrapping ErrDiskFull) while the store
// cannot write, as last found by Check, and nil otherwise. It does not
// look at the server: it is cheap enough for every publish (it waits only
// while the streams are being reopened).
func (w *DiskWatch) Fault() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fault
}

// Check asks the server's health report for a store that failed to write
// for lack of space, remembers what it found for Fault and returns it.
// While DiskWatch reopens the streams it waits for that to finish.
func (w *DiskWatch) Check() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.checkLocked()
}

// checkLocked is Check; the caller holds w.mu.
func (w *DiskWatch) checkLocked() error {
	cause := w.noSpace()
	if cause == "" {
		w.fault = nil
		return nil
	}
	if w.fault == nil {
		free, _ := freeBytes(w.storeDir)
		w.fault = fmt.Errorf("%w (%s; %d bytes free on the data dir's filesystem)", ErrDiskFull, cause, free)
		w.log.Error().Err(w.fault).Str("store_dir", w.storeDir).
			Msg("JetStream's disk is full: events are refused with 507 until it has room again")
	}
	return w.fault
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

// Run checks the store every interval until ctx ends; while the disk is
// full it reopens the streams as soon as the filesystem has room.
func (w *DiskWatch) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.Check() == nil {
			continue
		}
		if err := w.recover(); err != nil {
			w.log.Warn().Err(err).Msg("JetStream's disk is still full")
		}
	}
}

// recover reopens the account's streams once the filesystem has room,
// then checks the store again. Fault and Check wait until it is done, so
// no publish reaches JetStream while the streams are closed.
func (w *DiskWatch) recover() error {
	free, err := freeBytes(w.storeDir)
	if err != nil {
		return err
	}
	if free < w.room {
		return fmt.Errorf("%d bytes free on the filesystem of %s, waiting for %d", free, w.storeDir, w.room)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// auditbus keeps everything in the global account: disabling its
	// JetStream stops its streams (keeping their files) and enabling it
	// again recovers them from disk. (Restarting the server's whole
	// JetStream would do the same, but nats-server v2.15 then replaces its
	// API queues unsynchronised with requests in flight: a data race.)
	acc := w.ns.GlobalAccount()
	if err := acc.DisableJetStream(); err != nil {
		return fmt.Errorf("stop JetStream for the account: %w", err)
	}
	if err := acc.EnableJetStream(nil, nil); err != nil {
		return fmt.Errorf("reopen JetStream for the account: %w", err)
	}
	if err := w.checkLocked(); err != nil {
		return err
	}
	w.log.Info().Uint64("free_bytes", free).Msg("JetStream's disk has room again: its streams were reopened from disk, events are accepted")
	return nil
}

// freeBytes is the space an unprivileged writer has on dir's filesystem.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
