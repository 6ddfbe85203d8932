package router_test

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
)

// BenchmarkIngestSync measures what fsyncing every write costs ingest
// (POST /v1/events until 202, no rules) on the embedded server: the
// default (--nats-sync-interval 0, every write; requests of 16 or more
// events written as atomic batches) against a short interval (20ms) and
// nats-server's own default of 2 minutes, with requests of 1, 10 and 100
// events, four in flight. b.N is the number of events; compare events/s
// of one run:
//
//	go test ./router -run '^$' -bench IngestSync -benchtime 4000x
func BenchmarkIngestSync(b *testing.B) {
	for _, batch := range []int{1, 10, 100} {
		for _, sync := range []struct {
			name     string
			interval time.Duration
		}{{"every-write", 0}, {"interval=20ms", 20 * time.Millisecond}, {"interval=2m", 2 * time.Minute}} {
			b.Run(fmt.Sprintf("batch=%d/sync=%s", batch, sync.name), func(b *testing.B) {
				benchIngest(b, sync.interval, batch, 4)
			})
		}
	}
}

func benchIngest(b *testing.B, interval time.Duration, batchSize, senders int) {
	s, err := router.Start(context.Background(), router.Config{
		Listen: "127.0.0.1:0", DataDir: b.TempDir(), NATSListen: "-", NATSSyncInterval: interval,
		ShutdownGrace: time.Second, RulesReloadInterval: -1, Log: zerolog.Nop(), Stdout: io.Discard,
	})
	if err != nil {
		b.Fatalf("start: %v", err)
	}
	b.Cleanup(func() { s.Stop(context.Background()) })
	url := "http://" + s.Addr() + "/v1/events"
	c := benchClient(senders)
	ev := newBenchEvent(b)
	if err := postBatch(c, url, ev.batch("warm", 0, 100, time.Now())); err != nil {
		b.Fatal(err)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	b.ResetTimer()
	start := time.Now()
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
				if err := postBatch(c, url, ev.batch(run, first, min(first+batchSize, b.N), time.Now())); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
