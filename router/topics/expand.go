package topics

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// Expand returns set with every topic target replaced by what its URN
// names now: one subscription target per subscription of a topic (id
// "<target id>-<subscription id>", so each has its own queue), or one
// for a function (the target's own id); a subscription whose id would
// repeat another target's, or not fit a subject token, is left out and
// logged. Input, retry, rate and
// concurrency carry over to each. A URN the registry does not know stays
// a topic target (see KindTopic). Rules without topic targets are set's
// own.
func (r *Registry) Expand(set *rules.Set) (*rules.Set, error) {
	out := make([]*rules.Rule, 0, set.Len())
	changed := false
	for _, rule := range set.Rules() {
		targets, inputOf, ok := r.expand(rule, true)
		if !ok {
			out = append(out, rule)
			continue
		}
		changed = true
		out = append(out, rule.WithTargets(targets, inputOf))
	}
	if !changed {
		return set, nil
	}
	exp, err := rules.Compile(out)
	if err != nil {
		return nil, fmt.Errorf("expand topic targets: %w", err)
	}
	return exp, nil
}

// expand returns rule's targets with its topic targets expanded (inputOf
// maps each to the rule's target it comes from); ok is false when it has
// none. logged says to log what is left out or left unresolved, as an
// install does.
func (r *Registry) expand(rule *rules.Rule, logged bool) (targets []rules.Target, inputOf map[string]string, ok bool) {
	inputOf = map[string]string{}
	taken := map[string]bool{}
	for _, tg := range rule.Targets {
		taken[tg.ID] = true // the rule's own targets keep their ids
	}
	for _, tg := range rule.Targets {
		if tg.Kind != KindTopic {
			targets = append(targets, tg)
			inputOf[tg.ID] = tg.ID
			continue
		}
		ok = true
		c, err := decodeTopic(&tg.Config)
		if err != nil { // parsing checked it; keep it as written
			targets = append(targets, tg)
			continue
		}
		for _, sub := range r.resolve(c.URN, tg.ID) {
			if sub.topic != "" && !r.unique(rule, sub, taken, logged) {
				continue
			}
			t := tg
			t.ID, t.Kind, t.Config = sub.id, KindSubscription, sub.config
			targets = append(targets, t)
			inputOf[t.ID] = tg.ID
		}
		if !r.Known(c.URN) {
			if logged {
				r.log.Warn().Str("bus", rule.Bus).Str("rule", rule.Name).Str("target", tg.ID).Str("urn", c.URN).
					Msg("topic target names no known topic or function; its deliveries wait until it exists")
			}
			targets = append(targets, tg)
			inputOf[tg.ID] = tg.ID
		}
	}
	return targets, inputOf, ok
}

type resolved struct {
	id     string
	config yaml.Node
	// topic and subscription name a topic's subscription ("" for a
	// function).
	topic, subscription string
}

// unique reports whether sub's target id is one rule does not use yet and
// one that stays as it is in a subject token, taking it if so. Target
// ids may contain "-", so "<target id>-<subscription id>" may be another
// target's id (targets notify and notify-soc, subscription soc): two
// targets of one id would share one queue and one state. An id longer
// than a subject token (bus.Token) would be cut, and its deliveries not
// found by their target. Either way the subscription is left out, logged
// when logged is true.
func (r *Registry) unique(rule *rules.Rule, sub resolved, taken map[string]bool, logged bool) bool {
	why := ""
	switch {
	case taken[sub.id]:
		why = "another target of the rule has that id: rename one of the targets or the subscription"
	case bus.Token(sub.id) != sub.id:
		why = "the id is longer than a subject token allows: shorten the target id or the subscription id"
	default:
		taken[sub.id] = true
		return true
	}
	if !logged {
		return false
	}
	r.log.Error().Str("bus", rule.Bus).Str("rule", rule.Name).Str("topic", sub.topic).Str("subscription", sub.subscription).
		Str("target", sub.id).Str("reason", why).Msg("subscription target id is not usable; subscription not delivered for this rule")
	return false
}

// resolve is what a topic target of id naming urn becomes.
func (r *Registry) resolve(urn, id string) []resolved {
	if fn, ok := r.Function(urn); ok {
		return []resolved{{id: id, config: mapping("function", fn)}}
	}
	t, ok := r.ByURN(urn)
	if !ok {
		return nil
	}
	var out []resolved
	for _, s := range t.Subscriptions {
		n := r.subscriptionConfig(t, s)
		if err := sinks.Check(KindSubscription, &n); err != nil {
			// Put checks every subscription; this is a stored topic it
			// did not write. A bad sink would fail the router's whole
			// table, so the subscription is left out.
			r.log.Error().Err(err).Str("topic", t.Name).Str("subscription", s.ID).Msg("subscription is not a valid target; not delivered")
			continue
		}
		out = append(out, resolved{id: id + "-" + s.ID, config: n, topic: t.Name, subscription: s.ID})
	}
	return out
}

// subscriptionConfig is the settings of s's subscription target.
func (r *Registry) subscriptionConfig(t Topic, s Subscription) yaml.Node {
	n := yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	addScalar(&n, "topic_urn", t.URN)
	if s.Protocol == ProtocolFunction {
		fn, _ := r.Function(s.Endpoint)
		n.Content = append(n.Content, scalar("function"), fn)
		return n
	}
	wh := yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	addScalar(&wh, "url", s.Endpoint)
	addScalar(&wh, "format", "smn")
	if s.confirm() {
		wh.Content = append(wh.Content, scalar("confirm"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if s.Secret != "" {
		addScalar(&wh, "secret", s.Secret)
	}
	n.Content = append(n.Content, scalar("webhook"), &wh)
	return n
}

// checkSubscriptions checks the target of each of t's subscriptions as a
// rule's target is checked (a secret too short, say).
func (r *Registry) checkSubscriptions(t Topic) error {
	for _, s := range t.Subscriptions {
		n := r.subscriptionConfig(t, s)
		if err := sinks.Check(KindSubscription, &n); err != nil {
			return invalid("topic %s subscription %s: %v", t.Name, s.ID, err)
		}
	}
	return nil
}

func mapping(key string, val *yaml.Node) yaml.Node {
	return yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{scalar(key), val}}
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func addScalar(n *yaml.Node, k, v string) { n.Content = append(n.Content, scalar(k), scalar(v)) }

// Applier installs rule sets with their topic targets expanded, and
// installs the last one again whenever the registry changes.
type Applier struct {
	reg   *Registry
	apply func(context.Context, *rules.Set) error
	log   zerolog.Logger

	mu         sync.Mutex
	last       *rules.Set
	unresolved atomic.Int64 // topic targets of the installed set naming no known URN
}

// Metrics is auditbus_topic_targets_unresolved: how many topic targets of
// the installed rules name a URN the registry does not know (their
// deliveries wait in their queues).
func (a *Applier) Metrics() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "auditbus_topic_targets_unresolved",
		Help: "Topic targets of the running rules whose URN names no known topic or function; their deliveries wait."},
		func() float64 { return float64(a.unresolved.Load()) })
}

// install applies exp, the expansion of the set, and counts what stayed
// unresolved in it.
func (a *Applier) install(ctx context.Context, exp *rules.Set) error {
	if err := a.apply(ctx, exp); err != nil {
		return err
	}
	var n int64
	for _, r := range exp.Rules() {
		for _, tg := range r.Targets {
			if tg.Kind == KindTopic {
				n++
			}
		}
	}
	a.unresolved.Store(n)
	return nil
}

// NewApplier returns an Applier installing through apply (the router's
// SetRules) and registers its refresh with reg; ctx bounds the refreshes.
func NewApplier(ctx context.Context, reg *Registry, apply func(context.Context, *rules.Set) error, log zerolog.Logger) *Applier {
	a := &Applier{reg: reg, apply: apply, log: log}
	reg.OnChange(func() { a.refresh(ctx) })
	return a
}

// Apply expands set and installs it; on error the previous set stays.
func (a *Applier) Apply(ctx context.Context, set *rules.Set) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, err := a.reg.Expand(set)
	if err != nil {
		return err
	}
	if err := a.install(ctx, exp); err != nil {
		return err
	}
	a.last = set
	return nil
}

func (a *Applier) refresh(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		return
	}
	exp, err := a.reg.Expand(a.last)
	if err == nil {
		err = a.install(ctx, exp)
	}
	if err != nil {
		a.log.Error().Err(err).Msg("topics changed, but the rules with topic targets could not be installed again; the previous targets keep running")
	}
}
