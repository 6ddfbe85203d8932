package auth

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits is a table of token buckets, one per key (a client address, an
// identity), bounded in size. It is safe for concurrent use.
type Limits struct {
	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	limit     rate.Limit
	burst     int
	maxTracks int
	now       func() time.Time
}

// NewLimits gives every key burst tokens at once, refilled at perSecond.
// The table tracks at most 65,536 keys: when full, keys whose buckets have
// refilled are forgotten (they are no different from new ones), and if
// none has, the table starts afresh, so a flood of keys costs bounded
// memory and at worst a fresh burst for each.
func NewLimits(perSecond float64, burst int) *Limits {
	return &Limits{buckets: map[string]*rate.Limiter{}, limit: rate.Limit(perSecond), burst: burst,
		maxTracks: 65536, now: time.Now}
}

// Take takes a token of key's bucket and returns 0, or, when the bucket
// is empty, takes none and returns how long until it holds one.
func (l *Limits) Take(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		l.makeRoom(now)
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	if b.AllowN(now, 1) {
		return 0
	}
	return l.wait(b, now)
}

// Empty returns how long until key's bucket holds a token: 0 when it
// does, or when key has none yet.
func (l *Limits) Empty(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0
	}
	return l.wait(b, l.now())
}

func (l *Limits) wait(b *rate.Limiter, now time.Time) time.Duration {
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
}

func (l *Limits) makeRoom(now time.Time) {
	if len(l.buckets) < l.maxTracks {
		return
	}
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.maxTracks {
		clear(l.buckets)
	}
}

// ClientKey is the address a request comes from, as a Limits key: the
// IP, or an IPv6 client's /64 (one host usually has all of it). The
// connection's address, never a forwarded header a client can write.
func ClientKey(r *http.Request) string { return AddrKey(r.RemoteAddr) }

// AddrKey is ClientKey for a connection's remote address (host:port).
func AddrKey(remote string) string {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return remote
	}
	a := ap.Addr().Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
