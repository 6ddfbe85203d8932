package rulestest

// rng is SplitMix64: tiny, and specified by its few lines, so generated
// rules and events never change with the Go release (math/rand/v2 only
// promises the sources, not every method, to stay the same).
type rng struct{ state uint64 }

// newRNG derives an independent stream per (seed, stream, index), so rule
// i of Rules(n, seed) does not depend on n.
func newRNG(seed, stream, index uint64) *rng {
	r := &rng{state: seed ^ stream*0x9e3779b97f4a7c15}
	r.state ^= r.next() + index*0xbf58476d1ce4e5b9
	return r
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); the modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool {
	return float64(r.next()>>11)/(1<<53) < p
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// Streams keep rules, match events and no-match events independent.
const (
	streamRules uint64 = iota + 1
	streamEvents
)
