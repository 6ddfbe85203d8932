package bus

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream's atomic batch publish headers (nats-server 2.12 and later):
// every message of a batch carries its id and position, the last one also
// the commit marker, and only the commit is answered.
const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
)

// MaxAtomicBatch is the most events written as one atomic batch:
// nats-server's default limit (max_batch_size); a longer request is
// written as several batches, one after the other.
const MaxAtomicBatch = 1000

// MinAtomicBatch is the fewest events worth an atomic batch: the server
// stages each batch in a store of its own (a directory and files, created,
// fsynced and removed), which costs more than it saves on a few events
// (BenchmarkJetStreamCeiling, one run: 0.4x event-by-event publishes at 10
// events per batch, 1.7-2.8x at 20, 2.7-3.2x at 100).
const MinAtomicBatch = 16

// CommitWait bounds the wait for the answer to a batch's commit; then the
// batch's events are published one by one (see publishAtomic).
const CommitWait = 5 * time.Second

// errBatchRefused is an atomic batch the server answered with an error
// other than a storage refusal (a duplicate message id, too many batches
// in flight, batches not enabled), or did not answer within CommitWait:
// its events are published one by one instead, which reports each one's
// outcome (message ids keep any the batch stored from being stored twice).
var errBatchRefused = errors.New("atomic batch refused")

// batchAck is the server's answer to a batch's commit.
type batchAck struct {
	Sequence uint64              `json:"seq"`
	Count    int                 `json:"count"`
	Error    *jetstream.APIError `json:"error"`
}

// publishAtomic stores msgs as one atomic batch: the server writes them
// one after another and fsyncs once for the whole batch (where under
// sync_interval: always it would fsync after each message), and answers
// only after that. The stored messages keep the batch headers. The results carry each event's sequence; none is a
// duplicate, since the server refuses a batch that holds one
// (errBatchRefused).
func (p *Publisher) publishAtomic(ctx context.Context, msgs []*nats.Msg) ([]Result, error) {
	nc := p.js.Conn()
	id := rand.Text() // unique among the batches in flight
	defer func() {
		for _, m := range msgs {
			m.Header.Del(hdrBatchID)
			m.Header.Del(hdrBatchSeq)
			m.Header.Del(hdrBatchCommit)
			m.Header.Del(jetstream.ExpectedStreamHeader)
		}
	}()
	for i, m := range msgs {
		m.Header.Set(jetstream.ExpectedStreamHeader, StreamName)
		m.Header.Set(hdrBatchID, id)
		m.Header.Set(hdrBatchSeq, strconv.Itoa(i+1))
		if i < len(msgs)-1 {
			if err := nc.PublishMsg(m); err != nil {
				return nil, fmt.Errorf("%w: publish batch event %d: %v", ErrUnavailable, i, err)
			}
		}
	}
	commit := msgs[len(msgs)-1]
	commit.Header.Set(hdrBatchCommit, "1")
	// nats-server 2.15 does not answer a commit that fails while it writes
	// the batch (a storage limit crossed halfway), so the wait is bounded
	// and then the events go one by one: those the commit stored are
	// duplicates then, the others get JetStream's own answer.
	wait, cancel := context.WithTimeout(ctx, p.commitWait)
	defer cancel()
	reply, err := nc.RequestMsgWithContext(wait, commit)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: no answer to the commit within %s", errBatchRefused, p.commitWait)
		}
		return nil, fmt.Errorf("%w: commit batch of %d events: %v", ErrUnavailable, len(msgs), err)
	}
	var ack batchAck
	if err := json.Unmarshal(reply.Data, &ack); err != nil {
		return nil, fmt.Errorf("%w: batch acknowledgement %q: %v", ErrUnavailable, reply.Data, err)
	}
	if ack.Error != nil {
		if full := storageRefusal(ack.Error); full != nil {
			return nil, full
		}
		return nil, fmt.Errorf("%w: %v", errBatchRefused, ack.Error)
	}
	if ack.Count != len(msgs) || ack.Sequence < uint64(len(msgs)) {
		return nil, fmt.Errorf("%w: batch of %d events acknowledged as %d ending at sequence %d", ErrUnavailable, len(msgs), ack.Count, ack.Sequence)
	}
	// The server holds the stream for the whole commit, so the batch's
	// sequences are consecutive and end at the acknowledged one.
	first := ack.Sequence - uint64(len(msgs)) + 1
	results := make([]Result, len(msgs))
	for i, m := range msgs {
		results[i] = Result{Subject: m.Subject, Sequence: first + uint64(i)}
	}
	return results, nil
}
