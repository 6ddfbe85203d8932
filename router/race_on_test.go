//go:build race

package router_test

// raceEnabled: the tests run with -race, so binaries they build use it too
// and reuse the race-instrumented packages already in the build cache.
const raceEnabled = true
