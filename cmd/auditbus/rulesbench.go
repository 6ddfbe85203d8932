package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/rules"
)

// benchReport is what `rules bench --json` prints. The first six fields
// are the contract scripts rely on (DESIGN.md, issue #4); the rest are
// extras that may grow.
type benchReport struct {
	EventsPerSec   float64 `json:"events_per_sec"`
	NsPerEvent     float64 `json:"ns_per_event"`
	AllocsPerEvent float64 `json:"allocs_per_event"`
	Matched        int     `json:"matched"` // events that match at least one rule
	Events         int     `json:"events"`
	Rules          int     `json:"rules"` // enabled rules of the bus: the ones matching runs
	Bus            string  `json:"bus"`
	RuleMatches    int     `json:"rule_matches"` // (event, rule) pairs that match
	RuleErrors     int     `json:"rule_errors"`  // (event, rule) pairs whose condition failed at run time
	AvgEventBytes  int     `json:"avg_event_bytes"`
	Passes         int     `json:"passes"`
	ElapsedNs      int64   `json:"elapsed_ns"`
}

const defaultBenchDuration = 3 * time.Second

// runRulesBench measures how fast the rules of --rules match the events
// of --events, the way the router matches them: every event is re-encoded
// once as the structured JSON the bus stores, then Set.Match runs over all
// of them, pass after pass, on this goroutine, for --duration (default
// 3s; at least one full pass however short). It reports events per
// second, nanoseconds and heap allocations per event (the runtime's
// Mallocs count; the garbage collector runs as usual), and how many events
// match at least one rule, which tells a meaningful benchmark (most events
// matching nothing, as in production) from a broken one. Rules are loaded
// with the same validation as serve. Errors: bad rules (each as
// file:line:col), an unreadable events file, JSON that does not parse (at
// its file:line:column), an event that is not a valid CloudEvent, or no
// events at all.
func runRulesBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rules bench", stderr)
	var paths []string
	fs.Var(&listFlag{list: &paths}, "rules", "rule file or directory (repeatable)")
	eventFile := fs.String("events", "", `CloudEvents file (object, array or NDJSON; "-" for stdin)`)
	duration := fs.Duration("duration", defaultBenchDuration, "how long to measure (at least one pass over the events)")
	busName := fs.String("bus", "default", "bus whose rules are matched")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if len(paths) == 0 || *eventFile == "" || fs.NArg() > 0 || *duration < 0 {
		fmt.Fprintln(stderr, "usage: auditbus rules bench --rules PATH --events FILE [--duration D] [--bus B] [--json]")
		return errUsage
	}
	set, err := router.LoadRules(paths)
	if err != nil {
		return reportRuleErrors(err, stderr)
	}
	events, err := benchEvents(*eventFile, os.Stdin)
	if err != nil {
		return err
	}
	rep, err := benchMatch(ctx, set, *busName, events, *duration)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	printBenchReport(stdout, rep)
	return nil
}

// benchEvents reads the events file and encodes each event as the bus
// stores it, so the loop measures matching and nothing else.
func benchEvents(path string, stdin io.Reader) ([][]byte, error) {
	events, err := readEventFile(path, stdin)
	if err != nil {
		return nil, err
	}
	raws := make([][]byte, len(events))
	for i := range events {
		if raws[i], err = cejson.Marshal(&events[i]); err != nil {
			return nil, fmt.Errorf("%s: event %d: %w", path, i, err)
		}
	}
	return raws, nil
}

// benchMatch counts what the events match in a first pass, which also
// warms caches and pools, then times the loop.
func benchMatch(ctx context.Context, set *rules.Set, bus string, events [][]byte, d time.Duration) (benchReport, error) {
	rep := benchReport{Events: len(events), Bus: bus, Rules: enabledRules(set, bus)}
	size := 0
	for i, raw := range events {
		res, err := set.Match(bus, raw)
		if err != nil {
			return rep, fmt.Errorf("event %d: %w", i, err)
		}
		if len(res.Rules) > 0 {
			rep.Matched++
		}
		rep.RuleMatches += len(res.Rules)
		rep.RuleErrors += len(res.Errors)
		size += len(raw)
	}
	rep.AvgEventBytes = size / len(events)
	run, err := timeMatch(ctx, set, bus, events, d)
	if err != nil {
		return rep, err
	}
	n := float64(run.passes * len(events))
	rep.Passes, rep.ElapsedNs = run.passes, run.elapsed.Nanoseconds()
	rep.NsPerEvent = float64(run.elapsed.Nanoseconds()) / n
	rep.EventsPerSec = n / run.elapsed.Seconds()
	rep.AllocsPerEvent = float64(run.mallocs) / n
	return rep, nil
}

func enabledRules(set *rules.Set, bus string) int {
	n := 0
	for _, r := range set.Rules() {
		if r.Enabled && r.Bus == bus {
			n++
		}
	}
	return n
}

type benchRun struct {
	passes  int
	elapsed time.Duration
	mallocs uint64
}

// clockEvery is about how often the loop looks at the clock (and for
// cancellation): rarely enough that doing so costs nothing measurable even
// when a pass is one fast event.
const clockEvery = time.Millisecond

// timeMatch runs whole passes over events until d has elapsed. It reads
// the clock after the first pass and then only every clockEvery or so.
func timeMatch(ctx context.Context, set *rules.Set, bus string, events [][]byte, d time.Duration) (benchRun, error) {
	var before, after runtime.MemStats
	runtime.GC() // the loading phase's garbage is not the loop's to collect
	runtime.ReadMemStats(&before)
	start := time.Now()
	var run benchRun
	every := 1
	for {
		for range every {
			for _, raw := range events {
				if _, err := set.Match(bus, raw); err != nil {
					return run, err
				}
			}
		}
		run.passes += every
		run.elapsed = time.Since(start)
		if run.elapsed >= d {
			break
		}
		if err := ctx.Err(); err != nil {
			return run, err
		}
		if run.passes == 1 && run.elapsed < clockEvery {
			every = int(clockEvery / max(run.elapsed, 1))
		}
	}
	runtime.ReadMemStats(&after)
	run.mallocs = after.Mallocs - before.Mallocs
	return run, nil
}

func printBenchReport(w io.Writer, rep benchReport) {
	fmt.Fprintf(w, "%-14s %d enabled on bus %q\n", "rules", rep.Rules, rep.Bus)
	fmt.Fprintf(w, "%-14s %d, %d matching at least one rule, %d bytes on average\n", "events", rep.Events, rep.Matched, rep.AvgEventBytes)
	fmt.Fprintf(w, "%-14s %d pass(es) over the events in %s\n", "run", rep.Passes, time.Duration(rep.ElapsedNs).Round(time.Millisecond))
	fmt.Fprintf(w, "%-14s %.0f\n", "events/s", rep.EventsPerSec)
	fmt.Fprintf(w, "%-14s %.1f\n", "ns/event", rep.NsPerEvent)
	fmt.Fprintf(w, "%-14s %.2f\n", "allocs/event", rep.AllocsPerEvent)
	if rep.RuleErrors > 0 {
		fmt.Fprintf(w, "%-14s %d rule conditions failed at run time (see `auditbus rules test`)\n", "rule errors", rep.RuleErrors)
	}
}
