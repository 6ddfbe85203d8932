package bustest

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// LogBuffer is a log sink a test reads while the code under test writes to
// it from other goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitLong polls cond for up to a minute and fails the test with cond's
// state if it never holds. A minute, because nats.go's watchers notice a
// vanished consumer only after two missed heartbeats of 5 s each.
func WaitLong(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within a minute; state: %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
