package sinks

import (
	"context"
	"net"
	"net/netip"
)

// SetResolver makes g's dials resolve names with r, so tests can make a
// name resolve to any address.
func SetResolver(g *Guard, r *net.Resolver) *Guard {
	g.resolver = r
	return g
}

// SetLocalAddrs makes g take addrs for the host's own interface addresses.
func SetLocalAddrs(g *Guard, addrs ...string) *Guard {
	g.localAddrs = func() []netip.Addr {
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	return g
}

// Limiter exposes the bound on a command target's concurrent runs.
type Limiter = limiter

// NewLimiter returns a limiter of n slots.
func NewLimiter(n int) Limiter { return newLimiter(n) }

// Acquire takes a slot, waiting until ctx ends.
func (l limiter) Acquire(ctx context.Context) error { return l.acquire(ctx, nil) }

// Release gives a slot back.
func (l limiter) Release() { l.release() }

// TailBuffer keeps the last max bytes written to it.
func TailBuffer(max int) interface {
	Write([]byte) (int, error)
	Bytes() []byte
} {
	return &tailExport{tailBuffer{max: max}}
}

type tailExport struct{ tailBuffer }

func (t *tailExport) Bytes() []byte { return t.bytes() }

// MaxConcurrency is the number of concurrent runs a command function
// target allows.
func MaxConcurrency(s Sink) int { return cap(s.(*Function).inv.(*commandInvoker).slots) }
