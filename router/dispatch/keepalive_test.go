package dispatch

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// progressMsg counts InProgress calls; nothing else of it is used.
type progressMsg struct {
	jetstream.Msg
	n atomic.Int64
}

func (m *progressMsg) InProgress() error { m.n.Add(1); return nil }

// TestKeepAliveRepeatsUntilStopped: the keep-alive marks the message in
// progress again and again while the work lasts, and never after stop.
func TestKeepAliveRepeatsUntilStopped(t *testing.T) {
	r := &Router{opts: buildOptions([]Option{WithAckWait(30 * time.Millisecond)})}
	m := &progressMsg{}
	stop := r.keepAlive(m)
	deadline := time.Now().Add(10 * time.Second)
	for m.n.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("InProgress sent %d times, want 3 or more", m.n.Load())
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	after := m.n.Load()
	time.Sleep(50 * time.Millisecond)
	if m.n.Load() > after+1 { // one may have been under way as stop ran
		t.Fatalf("InProgress went on after stop: %d -> %d", after, m.n.Load())
	}
}
