package dispatch

import (
	"context"
	"testing"
	"time"
)

// The room a lane gives deliveries waiting for a slot: while a slot was
// free or freed within the slot wait (saturated but healthy), what it
// delivered in a slot wait (the limit before one was measured), at most
// the limit; and four times its
// concurrency, at least 32, before its pace is known or once it made no
// progress for the slot wait (hanging: a bounded share of the shared
// consumer).
func TestLaneRoomFollowsProgress(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name        string
		concurrency int
		progress    time.Time
		pace, done  int64
		want        int
	}{
		{"progress just now, pace 300", 8, now, 300, 10, 300},
		{"progress within the slot wait, counting past the pace", 8, now.Add(-slotWait / 2), 300, 400, 400},
		{"pace above the limit", 8, now, 5000, 0, 1024},
		{"pace below the base", 8, now, 3, 0, 32},
		{"no progress for the slot wait", 8, now.Add(-slotWait), 300, 0, 32},
		{"hanging, high concurrency", 20, now.Add(-time.Hour), 300, 0, 80},
		{"never any progress", 2, time.Time{}, 0, 0, 32},
		{"progress, no slot wait measured yet", 2, now, -1, 0, 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &lane{concurrency: tc.concurrency, slots: make(chan struct{}, tc.concurrency)}
			if !tc.progress.IsZero() {
				l.progress.Store(tc.progress.UnixNano())
			}
			if tc.pace >= 0 {
				l.paceStart.Store(now.Add(-time.Second).UnixNano())
				l.pace.Store(tc.pace)
				l.paced.Store(true)
			}
			l.done.Store(tc.done)
			if got := l.room(now, 1024); got != tc.want {
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
	if !l.acquire(ctx, time.Time{}, 1, &l.waiting) {
		t.Fatal("a free slot was not taken")
	}
	if l.progress.Load() == 0 {
		t.Error("taking a free slot is not progress")
	}
	l.waiting.Store(1) // another delivery already waits: room 1 is full
	if l.acquire(ctx, time.Now().Add(time.Hour), 1, &l.waiting) {
		t.Fatal("a delivery over the room got a slot")
	}
	l.waiting.Store(0)
	if l.acquire(ctx, time.Now(), 1, &l.waiting) {
		t.Fatal("a delivery got a busy slot after its deadline")
	}
	l.progress.Store(0)
	l.release()
	if l.progress.Load() == 0 {
		t.Error("giving a slot back is not progress")
	}
	if !l.acquire(ctx, time.Time{}, 0, &l.waiting) {
		t.Fatal("the freed slot was not taken")
	}
}

// Fetched deliveries waiting for a slot, however many, leave the
// fan-outs their own room: a fan-out within it still waits for the slot
// and gets it when one is freed.
func TestLaneFanOutsWaitApartFromFetched(t *testing.T) {
	ctx := context.Background()
	l := &lane{concurrency: 1, slots: make(chan struct{}, 1)}
	if !l.acquire(ctx, time.Time{}, 0, &l.waiting) {
		t.Fatal("a free slot was not taken")
	}
	l.waiting.Store(500) // a backlog of fetched deliveries waits
	got := make(chan bool)
	go func() { got <- l.acquire(ctx, time.Now().Add(time.Minute), 1, &l.fanWaiting) }()
	for l.fanWaiting.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	l.release()
	if !<-got {
		t.Fatal("a fan-out within its room was turned away because fetched deliveries wait")
	}
	if l.fanWaiting.Load() != 0 || l.waiting.Load() != 500 {
		t.Errorf("waiting counts after the fan-out: fan-outs %d, fetched %d; want 0 and 500", l.fanWaiting.Load(), l.waiting.Load())
	}
}

// The fan-outs a lane lets wait for a slot: its concurrency while it
// hangs, is slow, or has no pace yet; while it makes progress, what it
// frees within the wait at its pace, at most the limit.
func TestLaneDirectRoomFollowsPace(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		progress time.Time
		pace     int64 // deliveries in the last slot wait; -1: none measured
		want     int
	}{
		{"fast and saturated: what half a slot wait frees", now, 40, 20},
		{"faster than the limit", now, 5000, 32},
		{"slow: no fewer than its slots", now, 6, 8},
		{"hanging", now.Add(-slotWait), 5000, 8},
		{"no pace measured yet", now, -1, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &lane{concurrency: 8, slots: make(chan struct{}, 8)}
			l.progress.Store(tc.progress.UnixNano())
			if tc.pace >= 0 {
				l.pace.Store(tc.pace)
				l.paced.Store(true)
			}
			if got := l.directRoom(now, slotWait/2, 32); got != tc.want {
				t.Errorf("directRoom = %d, want %d", got, tc.want)
			}
		})
	}
}
