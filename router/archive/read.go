package archive

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/index"
)

// raw is a stream message of a range.
type raw struct {
	seq     uint64
	subject string
	data    []byte
	stored  time.Time
}

// read groups the range's traces by file, in stream order.
func (w *Writer) read(ctx context.Context, tracker string, c claim) ([]*group, int, error) {
	msgs, err := w.fetch(ctx, c)
	if err != nil {
		return nil, 0, err
	}
	recs, traces := w.convert(msgs)
	byDir := map[string]*group{}
	var order []*group
	n := 0
	for i, rec := range recs {
		tr := traces[i]
		if rec == nil || slices.Contains(c.Exclude, tr.ServiceType) {
			continue
		}
		day := rec.Time.UTC()
		dir := dayDir(c.Obs.FilePrefixName, w.region, day, tracker)
		if c.Obs.IsSortByService {
			dir = filepath.Join(dir, serviceDir(tr.ServiceType))
		}
		g := byDir[dir]
		if g == nil {
			g = &group{dir: dir, firstSeq: rec.Seq}
			byDir[dir] = g
			order = append(order, g)
		}
		g.traces = append(g.traces, tr)
		if day.After(g.newest) {
			g.newest = day
		}
		n++
	}
	return order, n, nil
}

// convert renders messages as traces on every core (decoding is most of
// an archive's work); a nil record is a message that is not an event.
func (w *Writer) convert(msgs []raw) ([]*index.Record, []cts.Trace) {
	recs, traces := make([]*index.Record, len(msgs)), make([]cts.Trace, len(msgs))
	workers := max(runtime.GOMAXPROCS(0), 1)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			for i := k; i < len(msgs); i += workers {
				m := msgs[i]
				rec, err := index.FromMessage(m.seq, m.subject, m.data, m.stored)
				if err != nil {
					w.m.skipped.Inc() // the index skips it too
					continue
				}
				recs[i], traces[i] = &rec, cts.ToTrace(rec)
			}
		})
	}
	wg.Wait()
	return recs, traces
}

// fetch reads the range's messages from the stream.
func (w *Writer) fetch(ctx context.Context, c claim) ([]raw, error) {
	cons, err := w.js.OrderedConsumer(ctx, bus.StreamName, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: c.First,
		InactiveThreshold: 10 * time.Second, // one per range: let the server drop it soon
	})
	if err != nil {
		return nil, fmt.Errorf("archive: read from %d: %w", c.First, err)
	}
	var out []raw
	for done := false; !done; {
		b, err := cons.Fetch(int(min(c.Last-c.First+1, 5000)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("archive: read: %w", err)
		}
		got := 0
		for m := range b.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("archive: message metadata: %w", err)
			}
			if seq := md.Sequence.Stream; seq <= c.Last {
				out = append(out, raw{seq: seq, subject: m.Subject(), data: m.Data(), stored: md.Timestamp})
			}
			done = done || md.Sequence.Stream >= c.Last
		}
		if err := b.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("archive: read: %w", err)
		}
		done = done || got == 0 // the range's end was deleted from the stream
	}
	return out, nil
}
