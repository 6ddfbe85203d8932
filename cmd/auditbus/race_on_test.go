//go:build race

package main

// raceEnabled: the tests run with -race, so binaries they build use it too
// and reuse the race-instrumented packages already in the build cache.
const raceEnabled = true
