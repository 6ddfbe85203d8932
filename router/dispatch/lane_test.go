package dispatch

import (
	"context"
	"testing"
	"time"
)

// The room a lane gives deliveries waiting for a slot: up to the limit
// while a slot was free or freed within the slot wait (saturated but
// healthy: it drains them as fast as it delivers), and four times its
// concurrency, at least 32, once it made no progress for the slot wait
// (hanging: a bounded share of the shared consumer).
func TestLaneRoomFollowsProgress(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name        string
		concurrency int
		progress    time.Time
		want        int
	}{
		{"progress just now", 8, now, 512},
		{"progress within the slot wait", 8, now.Add(-slotWait / 2), 512},
		{"no progress for the slot wait", 8, now.Add(-slotWait), 32},
		{"hanging, high concurrency", 20, now.Add(-time.Hour), 80},
		{"never any progress", 2, time.Time{}, 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &lane{concurrency: tc.concurrency, slots: make(chan struct{}, tc.concurrency)}
			if !tc.progress.IsZero() {
				l.progress.Store(tc.progress.UnixNano())
			}
			if got := l.room(now, 512); got != tc.want {
				t.Errorf("room = %d, want %d", got, tc.want)
			}
		})
	}
}

// A slot taken or given back is progress; a delivery over the room is
// turned away at once, and one within it waits until its deadline.
func TestLaneAcquire(t *testing.T) {
	ctx := context.Background()
	l := &lane{concurrency: 1, slots: make(chan struct{}, 1)}
	if !l.acquire(ctx, time.Time{}, 1) {
		t.Fatal("a free slot was not taken")
	}
	if l.progress.Load() == 0 {
		t.Error("taking a free slot is not progress")
	}
	l.waiting.Store(1) // another delivery already waits: room 1 is full
	if l.acquire(ctx, time.Now().Add(time.Hour), 1) {
		t.Fatal("a delivery over the room got a slot")
	}
	l.waiting.Store(0)
	if l.acquire(ctx, time.Now(), 1) {
		t.Fatal("a delivery got a busy slot after its deadline")
	}
	l.progress.Store(0)
	l.release()
	if l.progress.Load() == 0 {
		t.Error("giving a slot back is not progress")
	}
	if !l.acquire(ctx, time.Time{}, 0) {
		t.Fatal("the freed slot was not taken")
	}
}
