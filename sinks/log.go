package sinks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

func init() { Register("log", newLog) }

var _ Sink = (*Log)(nil)

// Log writes each delivery as one JSON line to standard output: the sink
// that works on any machine with nothing else set up.
type Log struct {
	out io.Writer
}

// logMu serializes the writes of every Log sink: all log targets share one
// writer (standard output), so a lock per sink would let two targets
// interleave their lines.
var logMu sync.Mutex

func newLog(node *yaml.Node, deps Deps) (Sink, error) {
	var cfg struct{}
	if err := decodeConfig(node, &cfg); err != nil {
		return nil, err
	}
	out := deps.Stdout
	if out == nil {
		out = os.Stdout
	}
	return &Log{out: out}, nil
}

// logLine is the shape of one line.
type logLine struct {
	Time    time.Time `json:"time"`
	Bus     string    `json:"bus"`
	Rule    string    `json:"rule"`
	Target  string    `json:"target"`
	Event   any       `json:"event,omitempty"`
	Payload any       `json:"payload,omitempty"`
}

// Connect does nothing.
func (l *Log) Connect(context.Context) error { return nil }

// Close does nothing: the writer belongs to the process.
func (l *Log) Close() error { return nil }

// Deliver writes one line; a write error is retryable.
func (l *Log) Deliver(_ context.Context, d *Delivery) error {
	line := logLine{Time: time.Now().UTC(), Bus: d.Bus, Rule: d.Rule, Target: d.Target, Event: d.Event, Payload: d.Payload}
	b, err := json.Marshal(line)
	if err != nil {
		return Permanent(fmt.Errorf("encode log line: %w", err))
	}
	b = append(b, '\n')
	logMu.Lock()
	defer logMu.Unlock()
	if _, err := l.out.Write(b); err != nil {
		return fmt.Errorf("write log line: %w", err)
	}
	return nil
}
