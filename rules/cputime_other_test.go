//go:build !unix

package rules_test

import "time"

// cpuTime is not measured off Unix: BenchmarkLoad then reports 0 CPU.
func cpuTime() time.Duration { return 0 }
