package bus

import (
	"testing"
	"time"
)

// TestReopenPace: the first reopening of a calm period is at once; each
// one that follows closely waits twice as long as the last, up to
// maxPause; after calmEnough without one the pause starts over.
func TestReopenPace(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var p reopenPace
	steps := []struct {
		at        time.Duration // since t0
		due       bool
		reopen    bool
		wantPause time.Duration // after reopening
	}{
		{at: 0, due: true, reopen: true, wantPause: firstPause},
		{at: firstPause - time.Second, due: false},
		{at: firstPause, due: true, reopen: true, wantPause: 2 * firstPause},
		{at: 3*firstPause - time.Second, due: false},
		{at: 3 * firstPause, due: true, reopen: true, wantPause: 4 * firstPause},
		{at: 3*firstPause + 4*firstPause, due: true, reopen: true, wantPause: 8 * firstPause},
		{at: 15*firstPause + 8*firstPause, due: true, reopen: true, wantPause: 16 * firstPause},
		{at: 23*firstPause + 16*firstPause, due: true, reopen: true, wantPause: maxPause},
		{at: 39*firstPause + maxPause + calmEnough, due: true, reopen: true, wantPause: firstPause},
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		if got := p.due(now); got != s.due {
			t.Fatalf("step %d at %s: due %v, want %v", i, s.at, got, s.due)
		}
		if s.reopen {
			p.reopened(now)
			if p.pause != s.wantPause {
				t.Fatalf("step %d at %s: pause %s, want %s", i, s.at, p.pause, s.wantPause)
			}
		}
	}
}

// TestReopenRoom: reopening waits for 64 MiB or 1% of the filesystem,
// whichever is more, at most an eighth of a small one, and at least the
// largest message and 1 MiB.
func TestReopenRoom(t *testing.T) {
	tests := []struct {
		name          string
		size, payload uint64
		want          uint64
	}{
		{"small filesystem", 10 << 20, 1 << 20, 2 << 20},
		{"large message", 100 << 20, 20 << 20, 21 << 20},
		{"mid-sized", 4 << 30, 1 << 20, 64 << 20},
		{"large filesystem", 1 << 40, 1 << 20, (1 << 40) / 100},
	}
	for _, tt := range tests {
		if got := roomFor(tt.size, tt.payload); got != tt.want {
			t.Errorf("%s: %d bytes, want %d", tt.name, got, tt.want)
		}
	}
}
