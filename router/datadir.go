package router

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrDataDirInUse is returned by Start when another auditbus holds the
// data directory: two processes writing one JetStream store, signing key
// and NATS credentials would corrupt them.
var ErrDataDirInUse = errors.New("data dir is in use")

const lockFileName = "auditbus.lock"

// lockDataDir creates dir (0700) if needed and takes an exclusive lock on
// its lock file for as long as the returned file stays open; the kernel
// drops the lock when the process ends, however it ends, so a killed
// auditbus never leaves a stale lock. The file holds the holder's pid for
// the error message.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by another auditbus (pid %s); give each process its own --data-dir", ErrDataDirInUse, dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("data dir lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
