package dispatch

import (
	"bytes"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// goroutineID is the number runtime.Stack prints for the calling
// goroutine: "goroutine 42 [running]:".
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return string(bytes.Fields(buf)[1])
}

// TestCrewKeepsItsGoroutines: tasks given one after another run on the
// goroutine the first one started, not on a new one each.
func TestCrewKeepsItsGoroutines(t *testing.T) {
	c := newCrew(time.Minute)
	defer c.stop()
	ids := map[string]bool{}
	for range 100 {
		ran := make(chan string)
		c.Go(func() { ran <- goroutineID() })
		ids[<-ran] = true
		time.Sleep(time.Millisecond) // the member is waiting again
	}
	if len(ids) > 10 {
		t.Fatalf("100 tasks in turn ran on %d goroutines, want them kept", len(ids))
	}
}

// TestCrewNeverBlocks: tasks given while every member is busy each get
// a member at once.
func TestCrewNeverBlocks(t *testing.T) {
	c := newCrew(time.Minute)
	release, started := make(chan struct{}), make(chan struct{}, 50)
	for range 50 {
		c.Go(func() {
			started <- struct{}{}
			<-release
		})
	}
	for i := range 50 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 50 blocked tasks started", i)
		}
	}
	close(release)
	c.stop()
}

// TestCrewStop: stop waits for a busy member's task and dismisses the
// idle ones at once, long before their idle time.
func TestCrewStop(t *testing.T) {
	c := newCrew(time.Hour)
	c.Go(func() {}) // a member that idles
	var finished atomic.Bool
	busy := make(chan struct{})
	c.Go(func() {
		close(busy)
		time.Sleep(50 * time.Millisecond)
		finished.Store(true)
	})
	<-busy
	stopped := make(chan struct{})
	go func() {
		c.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not return: an idle member stayed")
	}
	if !finished.Load() {
		t.Fatal("stop returned before the busy member's task finished")
	}
	c.stop() // twice is safe
}

// TestCrewMembersLeaveWhenIdle: a member that got no task for the idle
// time leaves, so stop has nobody to wait for.
func TestCrewMembersLeaveWhenIdle(t *testing.T) {
	c := newCrew(10 * time.Millisecond)
	c.Go(func() {})
	left := make(chan struct{})
	go func() { c.wg.Wait(); close(left) }()
	select {
	case <-left:
	case <-time.After(10 * time.Second):
		t.Fatal("an idle member stayed past its idle time")
	}
}
