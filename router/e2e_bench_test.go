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

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

// The end-to-end benchmarks of issue #5: events POSTed over loopback HTTP
// to /v1/events (batched mode), stored on JetStream, matched, fanned out to
// the target queues and delivered to an httptest webhook (CloudEvents
// binary mode, the default format), with everything in this one process
// on the same cores. Tunable through the environment:
//
//	AUDITBUS_BENCH_BATCH    events per ingest request (throughput; default 100)
//	AUDITBUS_BENCH_SENDERS  ingest requests in flight (throughput; default 4)
//	AUDITBUS_BENCH_RATE     offered events/s at 1 target (latency; default 2500)
//	AUDITBUS_BENCH_RATE10   offered events/s at 10 targets (latency; default 400)
//	AUDITBUS_BENCH_LBATCH   events per ingest request (latency; default 10)
//
// The default rates are about half of what BenchmarkE2EThroughput
// measures on 2 shared cores; above the maximum, latency only measures the
// backlog. Run them with a fixed count, so each run starts one server:
//
//	go test ./router -run '^$' -bench 'E2E|JetStreamCeiling' -benchtime 20000x -count 3

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
	deadline := time.Now().Add(timeout)
	for h.got.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("got %d of %d deliveries within %s", h.got.Load(), n, timeout)
		}
		time.Sleep(200 * time.Microsecond)
	}
	return time.Now()
}

// startBench runs a whole auditbus (embedded JetStream on a temp dir,
// HTTP API on a random loopback port) with one rule that sends every
// DeleteCluster event to targets webhook targets at url, each with the
// default concurrency.
func startBench(b *testing.B, targets int, url string) *router.Server {
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
func warmUp(b *testing.B, c *http.Client, url string, ev benchEvent, hook *benchHook, targets int) {
	const n = 500
	for i := 0; i < n; i += 100 {
		if err := postBatch(c, url, ev.batch("warm", i, i+100, time.Now())); err != nil {
			b.Fatal(err)
		}
	}
	hook.waitDeliveries(b, n*int64(targets), time.Minute)
	hook.got.Store(0)
}

// BenchmarkE2EThroughput measures delivered events/s end to end: senders
// POST batches as fast as the API answers 202 (closed loop), and the run
// ends when the webhook got every delivery. events/s counts events taken
// in and fully delivered, deliveries/s the webhook requests.
func BenchmarkE2EThroughput(b *testing.B) {
	batchSize := benchEnv(b, "AUDITBUS_BENCH_BATCH", 100)
	senders := benchEnv(b, "AUDITBUS_BENCH_SENDERS", 4)
	for _, targets := range benchTargets {
		b.Run(fmt.Sprintf("targets=%d", targets), func(b *testing.B) {
			hook := newBenchHook(b)
			s := startBench(b, targets, hook.URL)
			url := "http://" + s.Addr() + "/v1/events"
			c := benchClient(senders)
			ev := newBenchEvent(b)
			warmUp(b, c, url, ev, hook, targets)
			run := strconv.FormatInt(time.Now().UnixNano(), 36)

			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, senders)
			for range senders {
				wg.Go(func() {
					for {
						first := int(next.Add(int64(batchSize))) - batchSize
						if first >= b.N {
							return
						}
						last := min(first+batchSize, b.N)
						if err := postBatch(c, url, ev.batch(run, first, last, time.Now())); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			end := hook.waitDeliveries(b, int64(b.N*targets), 2*time.Minute)
			b.StopTimer()
			secs := end.Sub(start).Seconds()
			b.ReportMetric(float64(b.N)/secs, "events/s")
			b.ReportMetric(float64(b.N*targets)/secs, "deliveries/s")
			reportCPU(b, cpu0, end.Sub(start), b.N)
		})
	}
}

// BenchmarkE2ELatency offers a fixed load, open loop: every interval a
// batch is sent, whether or not earlier ones were answered, and each
// event's latency runs from the time its batch was due to be sent to the
// moment the webhook received it (so a sender falling behind counts, not
// hides). b.N is the number of events.
func BenchmarkE2ELatency(b *testing.B) {
	batchSize := benchEnv(b, "AUDITBUS_BENCH_LBATCH", 10)
	rates := map[int]int{1: benchEnv(b, "AUDITBUS_BENCH_RATE", 2500), 10: benchEnv(b, "AUDITBUS_BENCH_RATE10", 400)}
	for _, targets := range benchTargets {
		rate := rates[targets]
		b.Run(fmt.Sprintf("targets=%d/rate=%d", targets, rate), func(b *testing.B) {
			hook := newBenchHook(b)
			s := startBench(b, targets, hook.URL)
			url := "http://" + s.Addr() + "/v1/events"
			c := benchClient(256)
			ev := newBenchEvent(b)
			warmUp(b, c, url, ev, hook, targets)
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			hook.latencies = make([]time.Duration, 0, b.N*targets)
			hook.record.Store(true)

			b.ResetTimer()
			interval := time.Duration(float64(time.Second) * float64(batchSize) / float64(rate))
			inflight := make(chan struct{}, 256) // open loop, but not unbounded
			var failed atomic.Pointer[error]
			var wg sync.WaitGroup
			start, cpu0 := time.Now(), cpuTime()
			for i, n := 0, 0; i < b.N && failed.Load() == nil; i, n = i+batchSize, n+1 {
				due := start.Add(time.Duration(n) * interval)
				time.Sleep(time.Until(due))
				body := ev.batch(run, i, min(i+batchSize, b.N), due)
				inflight <- struct{}{}
				wg.Go(func() {
					defer func() { <-inflight }()
					if err := postBatch(c, url, body); err != nil {
						failed.CompareAndSwap(nil, &err)
					}
				})
			}
			wg.Wait()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			end := hook.waitDeliveries(b, int64(b.N*targets), 2*time.Minute)
			b.StopTimer()
			reportCPU(b, cpu0, end.Sub(start), b.N)
			hook.record.Store(false)
			hook.mu.Lock()
			lat := slices.Clone(hook.latencies)
			hook.mu.Unlock()
			slices.Sort(lat)
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

// BenchmarkJetStreamCeiling is the raw ceiling the end-to-end figures are
// compared with: the same events (same size, a message id for dedup, the
// same subject scheme) published asynchronously straight to a file-backed
// stream on an embedded server over an in-process connection, as auditbus
// runs it, and consumed by a pull consumer that acks each one. No HTTP, no
// matching, no fan-out.
func BenchmarkJetStreamCeiling(b *testing.B) {
	dir := b.TempDir()
	internal, err := bus.LoadInternalUser(dir)
	if err != nil {
		b.Fatal(err)
	}
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: dir, InProcessOnly: true, Internal: internal.Public()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := nats.Connect("", nats.InProcessServer(ns), internal.Option())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stream, err := bus.EnsureStream(ctx, js, bus.StreamConfig{})
	if err != nil {
		b.Fatal(err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "ceiling", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 10000})
	if err != nil {
		b.Fatal(err)
	}
	ev := newBenchEvent(b)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	subject := "auditbus.events.default.tke.ApiCall.DeleteCluster"

	var got atomic.Int64
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		got.Add(1)
	}, jetstream.PullMaxMessages(500))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()

	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var futures []jetstream.PubAckFuture
	for i := range b.N {
		m := nats.NewMsg(subject)
		m.Data = ev.appendEvent(nil, run+"-"+strconv.Itoa(i), time.Now())
		m.Header.Set(jetstream.MsgIDHeader, run+"-"+strconv.Itoa(i))
		m.Header.Set("Content-Type", bus.ContentType)
		f, err := js.PublishMsgAsync(m, jetstream.WithExpectStream(bus.StreamName))
		if err != nil {
			b.Fatal(err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for got.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("consumed %d of %d within 2m", got.Load(), b.N)
		}
		time.Sleep(200 * time.Microsecond)
	}
	b.StopTimer()
	wall := time.Since(start)
	b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
	reportCPU(b, cpu0, wall, b.N)
}
