package sinks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"gopkg.in/yaml.v3"
)

func init() { Register("nats", newNATS) }

var _ Sink = (*NATS)(nil)

// flushTimeout bounds the wait for the server to confirm a publish when
// the caller set no deadline.
const flushTimeout = 5 * time.Second

// NATSConfig is a nats target's YAML config.
type NATSConfig struct {
	Subject string `yaml:"subject"`
}

// NATS publishes each event as a structured CloudEvent (or the input
// payload) on a subject of the bus's NATS connection. Deliver returns after
// the server has received the message (a flush), so a delivery counted as
// done is not left in a client buffer.
type NATS struct {
	subject string
	nc      *nats.Conn
}

func newNATS(node *yaml.Node, deps Deps) (Sink, error) {
	var cfg NATSConfig
	if err := decodeConfig(node, &cfg, "subject"); err != nil {
		return nil, err
	}
	if err := checkSubject(cfg.Subject); err != nil {
		return nil, err
	}
	return &NATS{subject: cfg.Subject, nc: deps.NATS}, nil
}

func checkSubject(s string) error {
	if s == "" {
		return errors.New("subject: required")
	}
	if strings.HasPrefix(s, "auditbus.") {
		return fmt.Errorf("subject %q: the auditbus.> namespace is reserved for the bus itself", s)
	}
	if strings.HasPrefix(s, "$") || strings.HasPrefix(s, "_INBOX.") {
		// $JS.API, $KV.AUDITBUS_RULES, $SYS...: a rule must not drive the
		// server's own APIs or write the rules bucket behind the API's checks.
		return fmt.Errorf("subject %q: subjects starting with $ or _INBOX. belong to NATS itself", s)
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
			return fmt.Errorf("subject %q: want dot-separated tokens without wildcards or spaces", s)
		}
	}
	return nil
}

// Connect checks that the bus connection exists.
func (n *NATS) Connect(context.Context) error {
	if n.nc == nil {
		return errors.New("nats target: no NATS connection")
	}
	return nil
}

// Close does nothing: the connection belongs to the router.
func (n *NATS) Close() error { return nil }

// Deliver publishes and flushes.
func (n *NATS) Deliver(ctx context.Context, d *Delivery) error {
	if n.nc == nil {
		return errors.New("nats target: no NATS connection")
	}
	b, err := structuredOf(d)
	if err != nil {
		return err
	}
	e := d.Event
	msg := nats.NewMsg(n.subject)
	msg.Data = b
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	msg.Header.Set("Ce-Id", e.ID())
	msg.Header.Set("Ce-Source", e.Source())
	if err := checkHeaders(http.Header(msg.Header)); err != nil {
		return fmt.Errorf("publish to %s: %w", n.subject, err)
	}
	if err := n.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("publish to %s: %w", n.subject, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		// FlushWithContext refuses a context without a deadline.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	if err := n.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("flush to %s: %w", n.subject, err)
	}
	return nil
}
