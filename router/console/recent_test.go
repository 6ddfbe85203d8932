package console

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus/bustest"
)

// countingStream counts the messages read from a stream.
type countingStream struct {
	jetstream.Stream
	reads int
}

func (s *countingStream) GetMsg(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error) {
	s.reads++
	return s.Stream.GetMsg(ctx, seq, opts...)
}

// TestNewestOn: the newest messages of one subject are found among
// thousands of others with a few dozen reads, not one per message, and
// in the right order, whether the subject is sparse, dense or absent.
func TestNewestOn(t *testing.T) {
	ctx := context.Background()
	js := bustest.Start(t, "").JS
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}})
	if err != nil {
		t.Fatal(err)
	}
	// 3 messages on t.sparse among 4,000 on t.dense (sequences 1, 2001, 4001).
	var sparse []uint64
	for i := range 4003 {
		subj := "t.dense"
		if i%2000 == 0 {
			subj = "t.sparse"
		}
		ack, err := js.Publish(ctx, subj, []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if subj == "t.sparse" {
			sparse = append(sparse, ack.Sequence)
		}
	}
	slices.Reverse(sparse)
	tests := []struct {
		subject string
		want    []uint64
	}{
		{"t.sparse", sparse},
		{"t.dense", []uint64{4003, 4002, 4000, 3999, 3998, 3997, 3996, 3995, 3994, 3993}},
		{"t.none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			cs := &countingStream{Stream: st}
			got := newestOn(ctx, cs, tt.subject, 1, 4003, 10)
			if !slices.Equal(got, tt.want) {
				t.Errorf("newest on %s: %v, want %v", tt.subject, got, tt.want)
			}
			if cs.reads > 60 {
				t.Errorf("%d reads for %d messages, want a few per halving of 4,003 sequences (the old scan read 100 to find 10 in a window)", cs.reads, len(got))
			}
			t.Logf("%s: %d reads of 4,003 messages", tt.subject, cs.reads)
		})
	}
}
