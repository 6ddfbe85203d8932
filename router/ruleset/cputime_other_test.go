//go:build !unix

package ruleset_test

import "time"

// cpuTime is not measured off Unix: BenchmarkLoadFiles then reports 0 CPU.
func cpuTime() time.Duration { return 0 }
