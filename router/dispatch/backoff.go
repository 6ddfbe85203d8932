package dispatch

import (
	"math/rand/v2"
	"time"
)

// retryDelay is how long a delivery that failed at attempt n (from 1)
// waits before the next: full jitter, a random time in
// [0, min(cap, base*2^(n-1))], so that many deliveries failing together
// do not retry together; but never less than what the target asked for
// (Retry-After), which is itself cut to the cap so a hostile or confused
// target cannot park a delivery for days.
func retryDelay(n uint64, base, cap, retryAfter time.Duration) time.Duration {
	ceiling := cap
	if shift := n - 1; n >= 1 && shift < 40 && base<<shift > 0 && base<<shift < cap {
		ceiling = base << shift
	}
	d := time.Duration(0)
	if ceiling > 0 {
		d = rand.N(ceiling + 1)
	}
	return max(d, min(retryAfter, cap))
}
