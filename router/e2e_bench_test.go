package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/dispatch"
)

// The end-to-end benchmarks (issues #5 and #13): events POSTed over
// loopback HTTP to /v1/events (batched mode), stored on JetStream,
// matched, fanned out to the target queues and delivered to an httptest
// webhook (CloudEvents binary mode, the default format), with everything
// in this one process on the same cores. Tunable through the environment:
//
//	AUDITBUS_BENCH_BATCH    events per ingest request (throughput; default 100)
//	AUDITBUS_BENCH_SENDERS  ingest requests in flight (throughput; default 4)
//	AUDITBUS_BENCH_SYNC     the embedded server's fsync interval (default 0: every write)
//	AUDITBUS_BENCH_RATE     offered events/s at 1 target (latency; default half the maximum)
//	AUDITBUS_BENCH_RATE10   offered events/s at 10 targets (latency; default half the maximum)
//	AUDITBUS_BENCH_LBATCH   events per ingest request (latency; default 10)
//	AUDITBUS_BENCH_CONCURRENCY  each target's concurrency (default: auditbus's, 32)
//	AUDITBUS_BENCH_INDEX    "off": no audit index (IndexOff), to see delivery apart from indexing
//
// b.N is the number of events: run them with -benchtime Nx, so each run
// starts one server (see ceiling_bench_test.go for the ratio to the raw
// JetStream ceiling):
//
//	go test ./router -run '^$' -bench 'E2E' -benchtime 10000x

// benchEnv reads a positive integer from the environment.
func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// cpuTime is the CPU time this process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per event since cpu0, a figure
// much less disturbed by other work on a shared machine than events/s,
// and the cores busy on average (of GOMAXPROCS) over wall.
func reportCPU(b *testing.B, cpu0 time.Duration, wall time.Duration, events int) {
	used := cpuTime() - cpu0
	b.ReportMetric(float64(used.Microseconds())/float64(events), "cpu-µs/event")
	b.ReportMetric(used.Seconds()/wall.Seconds(), "cores")
}

// benchTargets are the fan-outs measured: 1 and 10 webhook targets per event.
var benchTargets = []int{1, 10}

// benchEvent builds events like examples/events/tke-delete-cluster.json
// (about 1.1 KB of compact JSON) with a given id and a benchsent extension
// holding the send time in Unix nanoseconds, cheaply enough to do at send
// time: the attributes before and after are fixed bytes.
type benchEvent struct{ rest []byte }

func newBenchEvent(b *testing.B) benchEvent {
	raw, err := os.ReadFile(filepath.Join("..", "examples", "events", "tke-delete-cluster.json"))
	if err != nil {
		b.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	delete(m, "id")
	rest, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return benchEvent{rest: rest[1:]} // without the opening brace
}

// appendEvent appends one event to buf.
func (e benchEvent) appendEvent(buf []byte, id string, sent time.Time) []byte {
	buf = append(buf, `{"id":"`...)
	buf = append(buf, id...)
	buf = append(buf, `","benchsent":"`...)
	buf = strconv.AppendInt(buf, sent.UnixNano(), 10)
	buf = append(buf, `",`...)
	return append(buf, e.rest...)
}

// batch is the body of one batched-mode request of events first..last-1.
func (e benchEvent) batch(run string, first, last int, sent time.Time) []byte {
	buf := make([]byte, 0, (last-first)*(len(e.rest)+64)+2)
	buf = append(buf, '[')
	for i := first; i < last; i++ {
		if i > first {
			buf = append(buf, ',')
		}
		buf = e.appendEvent(buf, run+"-"+strconv.Itoa(i), sent)
	}
	return append(buf, ']')
}

// benchHook is the receiving webhook: it counts deliveries and, when
// latencies is set, records each one's age (now minus benchsent).
type benchHook struct {
	*httptest.Server
	got       atomic.Int64
	mu        sync.Mutex
	latencies []time.Duration
	record    atomic.Bool
}

func newBenchHook(b *testing.B) *benchHook {
	h := &benchHook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if h.record.Load() {
			if ns, err := strconv.ParseInt(r.Header.Get("Ce-Benchsent"), 10, 64); err == nil {
				d := time.Since(time.Unix(0, ns))
				h.mu.Lock()
				h.latencies = append(h.latencies, d)
				h.mu.Unlock()
			}
		}
		h.got.Add(1)
	}))
	b.Cleanup(h.Close)
	return h
}

// waitDeliveries waits until the hook got n deliveries in all, failing
// the benchmark after timeout so that a run always ends.
func (h *benchHook) waitDeliveries(b *testing.B, n int64, timeout time.Duration) time.Time {
	return awaitCount(b, h.got.Load, n, timeout)
}

// awaitCount waits until got reports n, failing the benchmark after
// timeout.
func awaitCount(b *testing.B, got func() int64, n int64, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	for got() < n {
		if time.Now().After(deadline) {
			b.Fatalf("got %d of %d deliveries within %s", got(), n, timeout)
		}
		time.Sleep(200 * time.Microsecond)
	}
	return time.Now()
}

// startBench runs a whole auditbus (embedded JetStream on a temp dir,
// fsyncing as sync says: 0 every write, the default; HTTP API on a random
// loopback port) with one rule that sends every DeleteCluster event to
// targets webhook targets at url, each with the default concurrency
// (AUDITBUS_BENCH_CONCURRENCY changes it).
func startBench(b *testing.B, targets int, url string, sync time.Duration) *router.Server {
	src := "name: bench\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n"
	for i := range targets {
		src += fmt.Sprintf("  - id: t%d\n    webhook: {url: %q, timeout: 10s}\n", i, url)
	}
	rules := filepath.Join(b.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := router.Start(context.Background(), router.Config{
		Listen:              "127.0.0.1:0",
		DataDir:             b.TempDir(),
		NATSListen:          "-",
		Rules:               []string{rules},
		ShutdownGrace:       time.Second,
		RulesReloadInterval: -1,
		Log:                 zerolog.Nop(),
		Stdout:              io.Discard,
		AllowPrivateTargets: true,
		NATSSyncInterval:    sync,
		Concurrency:         benchEnv(b, "AUDITBUS_BENCH_CONCURRENCY", dispatch.DefaultConcurrency),
		IndexOff:            os.Getenv("AUDITBUS_BENCH_INDEX") == "off",
	})
	if err != nil {
		b.Fatalf("start: %v", err)
	}
	b.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// benchClient posts ingest requests; conns is its keep-alive pool size.
func benchClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}}
}

// postBatch sends one batched-mode request and insists on 202.
func postBatch(c *http.Client, url string, body []byte) error {
	resp, err := c.Post(url, "application/cloudevents-batch+json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("ingest answered %d: %s", resp.StatusCode, answer)
	}
	return nil
}

// warmUp sends and waits for a few hundred events, so connections, queues
// and caches exist before the measured part.
func warmUp(b *testing.B, c *http.Client, url string, ev benchEvent, got func() int64, targets int) {
	const n = 500
	want := got() + n*int64(targets)
	for i := 0; i < n; i += 100 {
		if err := postBatch(c, url, ev.batch("warm", i, i+100, time.Now())); err != nil {
			b.Fatal(err)
		}
	}
	awaitCount(b, got, want, time.Minute)
}

// sendClosed posts events first..last-1 in requests of batch events from
// senders goroutines, each sending its next request once the last one was
// answered 202 (closed loop).
func sendClosed(c *http.Client, url string, ev benchEvent, run string, first, last, batch, senders int) error {
	var next atomic.Int64
	next.Store(int64(first))
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for range senders {
		wg.Go(func() {
			for {
				from := int(next.Add(int64(batch))) - batch
				if from >= last {
					return
				}
				if err := postBatch(c, url, ev.batch(run, from, min(from+batch, last), time.Now())); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// benchSync is the embedded server's fsync interval in the end-to-end
// benchmarks: AUDITBUS_BENCH_SYNC, a duration; 0 (the default, as
// auditbus runs by default) fsyncs every write.
func benchSync(b *testing.B) time.Duration {
	v := os.Getenv("AUDITBUS_BENCH_SYNC")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		b.Fatalf("AUDITBUS_BENCH_SYNC=%q: want a duration, 0 or more", v)
	}
	return d
}

// e2eRun is one auditbus with its webhook and a client, warmed up. The
// webhook is in this process (hook, which records latencies) or in a
// child process (child); got counts its deliveries either way.
type e2eRun struct {
	s       *router.Server
	hook    *benchHook
	child   *childHook
	got     func() int64
	url     string
	c       *http.Client
	ev      benchEvent
	targets int
}

// newE2ERun starts auditbus with its webhook in this process.
func newE2ERun(b *testing.B, targets, conns int) *e2eRun {
	hook := newBenchHook(b)
	return startE2ERun(b, &e2eRun{hook: hook, got: hook.got.Load, targets: targets}, hook.URL, conns)
}

// newE2ERunChild starts auditbus with its webhook in a child process.
func newE2ERunChild(b *testing.B, targets, conns int) *e2eRun {
	child := startChildHook(b)
	return startE2ERun(b, &e2eRun{child: child, got: child.got.Load, targets: targets}, child.URL, conns)
}

func startE2ERun(b *testing.B, r *e2eRun, hookURL string, conns int) *e2eRun {
	r.s = startBench(b, r.targets, hookURL, benchSync(b))
	r.url, r.c, r.ev = "http://"+r.s.Addr()+"/v1/events", benchClient(conns), newBenchEvent(b)
	warmUp(b, r.c, r.url, r.ev, r.got, r.targets)
	return r
}

// stop stops auditbus before the benchmark ends, so it does not share the
// cores with what is measured next.
func (r *e2eRun) stop() { r.s.Stop(context.Background()) }

// throughput sends n events closed loop and waits for every delivery; it
// returns the wall time from the first request to the last delivery.
func (r *e2eRun) throughput(b *testing.B, n, batch, senders int) time.Duration {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	want := r.got() + int64(n*r.targets)
	start := time.Now()
	if err := sendClosed(r.c, r.url, r.ev, run, 0, n, batch, senders); err != nil {
		b.Fatal(err)
	}
	return awaitCount(b, r.got, want, 2*time.Minute).Sub(start)
}

// BenchmarkE2EThroughput measures delivered events/s end to end: senders
// POST batches as fast as the API answers 202 (closed loop), and the run
// ends when the webhook, in a child process, got every delivery. events/s
// counts events taken in and fully delivered, deliveries/s the webhook
// requests. CPU per delivery is reported three ways (deploy/README.md says
// what each counts): cpu-µs/delivery, this process and the receiver;
// router-cpu-µs/delivery, this process alone; marginal-cpu-µs/delivery
// (at 10 targets, after 1 in the same run), what a tenth target costs
// the process per event: the slope of router CPU per event from 1 to 10
// targets. queued/delivery is the share of deliveries stored on the
// deliveries stream (not made straight from the fan-out).
func BenchmarkE2EThroughput(b *testing.B) {
	batchSize := benchEnv(b, "AUDITBUS_BENCH_BATCH", 100)
	senders := benchEnv(b, "AUDITBUS_BENCH_SENDERS", 4)
	perEvent := map[int]float64{} // router CPU µs per event, by targets, this run
	for _, targets := range benchTargets {
		b.Run(fmt.Sprintf("targets=%d", targets), func(b *testing.B) {
			r := newE2ERunChild(b, targets, senders)
			queued0 := queuedCount(b, r.s)
			b.ResetTimer()
			cpu0, hook0 := cpuTime(), r.child.cpu(b)
			wall := r.throughput(b, b.N, batchSize, senders)
			b.StopTimer()
			own, hook := cpuTime()-cpu0, r.child.cpu(b)-hook0
			deliveries := float64(b.N * targets)
			b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
			b.ReportMetric(deliveries/wall.Seconds(), "deliveries/s")
			reportCPU(b, cpu0, wall, b.N)
			b.ReportMetric(float64((own+hook).Microseconds())/deliveries, "cpu-µs/delivery")
			b.ReportMetric(float64(own.Microseconds())/deliveries, "router-cpu-µs/delivery")
			b.ReportMetric(float64(queuedCount(b, r.s)-queued0)/deliveries, "queued/delivery")
			perEvent[targets] = float64(own.Microseconds()) / float64(b.N)
			if one, ok := perEvent[1]; ok && targets > 1 {
				b.ReportMetric((perEvent[targets]-one)/float64(targets-1), "marginal-cpu-µs/delivery")
			}
		})
	}
}

// BenchmarkE2ELatency offers a fixed load, open loop: every interval a
// batch is sent, whether or not earlier ones were answered, and each
// event's latency runs from the time its batch was due to be sent to the
// moment the webhook received it (so a sender falling behind counts, not
// hides). b.N is the number of events. The load is half the maximum the
// same auditbus reaches first, closed loop on b.N events in requests of
// the same size (max-events/s: a request's size changes what ingest
// costs), unless AUDITBUS_BENCH_RATE (1 target) or AUDITBUS_BENCH_RATE10
// (10) fix it.
func BenchmarkE2ELatency(b *testing.B) {
	batchSize := benchEnv(b, "AUDITBUS_BENCH_LBATCH", 10)
	rates := map[int]int{1: benchEnv(b, "AUDITBUS_BENCH_RATE", -1), 10: benchEnv(b, "AUDITBUS_BENCH_RATE10", -1)}
	for _, targets := range benchTargets {
		b.Run(fmt.Sprintf("targets=%d", targets), func(b *testing.B) {
			r := newE2ERun(b, targets, 256)
			rate, maxRate := rates[targets], 0.0
			if rate < 0 {
				wall := r.throughput(b, b.N, batchSize, benchEnv(b, "AUDITBUS_BENCH_SENDERS", 4))
				maxRate = float64(b.N) / wall.Seconds()
				rate = max(int(maxRate/2), 1)
			}
			b.ResetTimer() // which also drops metrics reported so far
			lat := r.paced(b, b.N, batchSize, rate)
			b.StopTimer()
			if maxRate > 0 {
				b.ReportMetric(maxRate, "max-events/s")
			}
			b.ReportMetric(float64(rate), "offered-events/s")
			q := func(p float64) float64 {
				return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)]) / float64(time.Millisecond)
			}
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(0.999), "p999-ms")
			b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
		})
	}
}

// paced sends n events at rate events/s in requests of batch events, open
// loop, and returns every delivery's latency, sorted.
func (r *e2eRun) paced(b *testing.B, n, batch, rate int) []time.Duration {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	want := r.got() + int64(n*r.targets)
	r.hook.mu.Lock()
	r.hook.latencies = make([]time.Duration, 0, n*r.targets)
	r.hook.mu.Unlock()
	r.hook.record.Store(true)
	defer r.hook.record.Store(false)
	interval := time.Duration(float64(time.Second) * float64(batch) / float64(rate))
	inflight := make(chan struct{}, 256) // open loop, but not unbounded
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for i, k := 0, 0; i < n && failed.Load() == nil; i, k = i+batch, k+1 {
		due := start.Add(time.Duration(k) * interval)
		time.Sleep(time.Until(due))
		body := r.ev.batch(run, i, min(i+batch, n), due)
		inflight <- struct{}{}
		wg.Go(func() {
			defer func() { <-inflight }()
			if err := postBatch(r.c, r.url, body); err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	r.hook.waitDeliveries(b, want, 2*time.Minute)
	r.hook.mu.Lock()
	lat := slices.Clone(r.hook.latencies)
	r.hook.mu.Unlock()
	slices.Sort(lat)
	return lat
}
