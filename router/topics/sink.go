package topics

import (
	"context"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/sinks"
)

// Target kinds this package adds to the sink registry.
const (
	// KindTopic is what rules write: `topic: {urn: ...}`, a topic or a
	// function by URN. Expand replaces it; a topic target left (its URN
	// is not in the registry) fails every delivery, retryably, so events
	// wait in its queue (and then its dead letters) until the URN exists.
	KindTopic = "topic"
	// KindSubscription is one subscription of a topic, as Expand writes it.
	KindSubscription = "subscription"
)

func init() {
	sinks.Register(KindTopic, newTopicSink)
	sinks.Register(KindSubscription, newSubscriptionSink)
}

// ErrUnresolved is the delivery error of a topic target whose URN is not
// in the registry.
var ErrUnresolved = errors.New("topic target: URN is not a known topic or function")

type topicConfig struct {
	URN string `yaml:"urn"`
}

func decodeTopic(n *yaml.Node) (topicConfig, error) {
	var c topicConfig
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value != "urn" {
				return c, fmt.Errorf("line %d col %d: unknown option %q (known: [urn])", k.Line, k.Column, k.Value)
			}
		}
	}
	if err := n.Decode(&c); err != nil {
		return c, err
	}
	if !IsTopicURN(c.URN) && !IsFunctionURN(c.URN) {
		return c, fmt.Errorf("urn %q: want a topic (urn:smn:<region>:<project>:<name>) or a function (urn:fss:...)", c.URN)
	}
	return c, nil
}

func newTopicSink(n *yaml.Node, _ sinks.Deps) (sinks.Sink, error) {
	c, err := decodeTopic(n)
	if err != nil {
		return nil, err
	}
	return unresolved(c.URN), nil
}

type unresolved string

func (unresolved) Connect(context.Context) error { return nil }
func (unresolved) Close() error                  { return nil }
func (u unresolved) Deliver(context.Context, *sinks.Delivery) error {
	return fmt.Errorf("%w: %s", ErrUnresolved, string(u))
}

// subscriptionConfig is a subscription target's settings: the topic's
// URN (empty for a function named directly) and the target it delivers
// through, a webhook (smn format) or a function.
type subscriptionConfig struct {
	TopicURN string    `yaml:"topic_urn"`
	Webhook  yaml.Node `yaml:"webhook"`
	Function yaml.Node `yaml:"function"`
}

// subscription delivers one topic subscription's messages: the event as
// a notification (see Render) through its webhook or function.
type subscription struct {
	sinks.Sink
	topicURN string
	function bool
}

func newSubscriptionSink(n *yaml.Node, deps sinks.Deps) (sinks.Sink, error) {
	var c subscriptionConfig
	if err := n.Decode(&c); err != nil {
		return nil, err
	}
	kind, inner := "webhook", &c.Webhook
	if c.Function.Kind != 0 {
		kind, inner = "function", &c.Function
	}
	if (c.Webhook.Kind != 0) == (c.Function.Kind != 0) {
		return nil, errors.New("subscription: give one of webhook and function")
	}
	s, err := sinks.New(kind, inner, deps)
	if err != nil {
		return nil, fmt.Errorf("subscription: %w", err)
	}
	return &subscription{Sink: s, topicURN: c.TopicURN, function: kind == "function"}, nil
}

// Deliver sends the notification of d's event, unless the target's input
// built a payload of its own.
func (s *subscription) Deliver(ctx context.Context, d *sinks.Delivery) error {
	dd := *d
	n, err := Render(d.Bus, d.Event)
	if err != nil {
		return sinks.Permanent(fmt.Errorf("subscription: %w", err))
	}
	dd.TopicURN, dd.Subject = s.topicURN, n.Subject
	if dd.Payload == nil {
		dd.Payload = n.Message
		if s.function {
			dd.Payload = n.Trace
		}
	}
	err = s.Sink.Deliver(ctx, &dd)
	d.Response = dd.Response
	return err
}

// consenter is the dispatch's view of a webhook that asks for consent.
type consenter interface {
	ConsentMode() string
	Endpoint() string
	RequestConsent(ctx context.Context, s *sinks.Subscription) (sinks.Consent, error)
}

// ConsentMode, Endpoint and RequestConsent pass the webhook's consent
// (confirm: the SubscriptionConfirmation handshake) through.
func (s *subscription) ConsentMode() string {
	if c, ok := s.Sink.(consenter); ok {
		return c.ConsentMode()
	}
	return ""
}

func (s *subscription) Endpoint() string {
	if c, ok := s.Sink.(consenter); ok {
		return c.Endpoint()
	}
	return ""
}

func (s *subscription) RequestConsent(ctx context.Context, sub *sinks.Subscription) (sinks.Consent, error) {
	c, ok := s.Sink.(consenter)
	if !ok {
		return sinks.Consent{}, errors.New("subscription: its target asks for no consent")
	}
	if s.topicURN != "" {
		cp := *sub
		cp.TopicURN = s.topicURN
		sub = &cp
	}
	return c.RequestConsent(ctx, sub)
}
