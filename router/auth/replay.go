package auth

import (
	"container/heap"
	"errors"
	"sync"
	"time"
)

// DefaultReplayCapacity is the number of signatures of one access key a
// ReplayCache built with a capacity of 0 or less remembers at once. Each
// costs about 125 bytes (map entry and heap slot, measured), so the default
// bounds one key's share near 16 MiB. A signature is kept until its date
// plus the skew: with the default 15-minute skew, about 15 minutes for a
// client with a correct clock, which sustains roughly 145 signed requests
// per second per key before that key's share fills.
const DefaultReplayCapacity = 1 << 17

// ErrReplayed reports a signature that was already accepted and has not yet
// left its validity window.
var ErrReplayed = errors.New("signature already used")

// ErrReplayCacheFull reports that the replay cache holds its capacity of
// one access key's signatures that are all still within their validity
// window, so a new one of that key cannot be remembered. The cache refuses
// rather than forgets: forgetting an unexpired signature would let it be
// replayed.
var ErrReplayCacheFull = errors.New("replay cache full")

// ReplayCache remembers accepted signatures until they expire so that each is
// accepted once. Its capacity bounds each access key's signatures, so a key
// that signs a flood fills only its own share and never locks out another
// key's clients. It is safe for concurrent use and runs no goroutine:
// expired entries are evicted by the calls that add new ones, oldest expiry
// first.
type ReplayCache struct {
	mu       sync.Mutex
	capacity int
	seen     map[[32]byte]struct{}
	perKey   map[string]int
	byExpiry expiryHeap
}

// NewReplayCache returns an empty cache that holds at most capacity
// unexpired signatures (DefaultReplayCapacity when capacity <= 0).
func NewReplayCache(capacity int) *ReplayCache {
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	return &ReplayCache{capacity: capacity, seen: make(map[[32]byte]struct{}), perKey: make(map[string]int)}
}

// Remember records sig, made with access key key, as used until expires.
// It returns ErrReplayed when sig is already recorded and unexpired at now,
// and ErrReplayCacheFull when the cache holds its capacity of key's
// unexpired signatures; in both cases nothing is recorded. Entries whose
// expiry is at or before now are evicted first.
func (c *ReplayCache) Remember(key string, sig [32]byte, expires, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evict(now.UnixNano())
	if _, dup := c.seen[sig]; dup {
		return ErrReplayed
	}
	if c.perKey[key] >= c.capacity {
		return ErrReplayCacheFull
	}
	c.seen[sig] = struct{}{}
	c.perKey[key]++
	heap.Push(&c.byExpiry, replayEntry{expires: expires.UnixNano(), sig: sig, key: key})
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
		if c.perKey[e.key]--; c.perKey[e.key] == 0 {
			delete(c.perKey, e.key)
		}
	}
}

type replayEntry struct {
	expires int64
	sig     [32]byte
	key     string
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
