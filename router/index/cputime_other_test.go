//go:build !unix

package index_test

import "time"

// cpuTime is not measured off Unix: the benchmarks then report 0 CPU.
func cpuTime() time.Duration { return 0 }
