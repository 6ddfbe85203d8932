package auth

import (
	"container/heap"
	"errors"
	"sync"
	"time"
)

// DefaultReplayCapacity is the number of signatures a ReplayCache built with
// a capacity of 0 or less remembers at once. Each costs about 125 bytes (map
// entry and heap slot, measured), so the default bounds the cache near
// 16 MiB. A signature is kept until its date plus the skew: with the default
// 15-minute skew, about 15 minutes for a client with a correct clock, which
// sustains roughly 145 signed requests per second before the cache fills.
const DefaultReplayCapacity = 1 << 17

// ErrReplayed reports a signature that was already accepted and has not yet
// left its validity window.
var ErrReplayed = errors.New("signature already used")

// ErrReplayCacheFull reports that the replay cache holds its capacity of
// signatures that are all still within their validity window, so a new one
// cannot be remembered. The cache refuses rather than forgets: forgetting an
// unexpired signature would let it be replayed.
var ErrReplayCacheFull = errors.New("replay cache full")

// ReplayCache remembers accepted signatures until they expire so that each is
// accepted once. It is bounded by its capacity, safe for concurrent use and
// runs no goroutine: expired entries are evicted by the calls that add new
// ones, oldest expiry first.
type ReplayCache struct {
	mu       sync.Mutex
	capacity int
	seen     map[[32]byte]struct{}
	byExpiry expiryHeap
}

// NewReplayCache returns an empty cache that holds at most capacity
// unexpired signatures (DefaultReplayCapacity when capacity <= 0).
func NewReplayCache(capacity int) *ReplayCache {
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	return &ReplayCache{capacity: capacity, seen: make(map[[32]byte]struct{})}
}

// Remember records sig as used until expires. It returns ErrReplayed when sig
// is already recorded and unexpired at now, and ErrReplayCacheFull when the
// cache holds its capacity of unexpired signatures; in both cases nothing is
// recorded. Entries whose expiry is at or before now are evicted first.
func (c *ReplayCache) Remember(sig [32]byte, expires, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evict(now.UnixNano())
	if _, dup := c.seen[sig]; dup {
		return ErrReplayed
	}
	if len(c.seen) >= c.capacity {
		return ErrReplayCacheFull
	}
	c.seen[sig] = struct{}{}
	heap.Push(&c.byExpiry, replayEntry{expires: expires.UnixNano(), sig: sig})
	return nil
}

// Len reports how many signatures the cache holds, expired ones not yet
// evicted included.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func (c *ReplayCache) evict(now int64) {
	for len(c.byExpiry) > 0 && c.byExpiry[0].expires <= now {
		e := heap.Pop(&c.byExpiry).(replayEntry)
		delete(c.seen, e.sig)
	}
}

type replayEntry struct {
	expires int64
	sig     [32]byte
}

// expiryHeap is a min-heap on expiry: expiries do not arrive in order (a
// request may be dated anywhere within the skew), so a FIFO would not do.
type expiryHeap []replayEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(replayEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
