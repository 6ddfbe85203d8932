package topics

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/rules"
)

// Unknown returns one problem per topic target of rule whose URN names
// no topic or function, positioned at the target. API topics are read
// from the bucket itself, not from what this replica's watch has seen, so
// a topic created a moment ago through another replica counts. The error
// is ErrUnavailable when the bucket did not answer.
func (r *Registry) Unknown(ctx context.Context, rule *rules.Rule) (rules.Errors, error) {
	var errs rules.Errors
	for _, tg := range rule.Targets {
		if tg.Kind != KindTopic {
			continue
		}
		c, err := decodeTopic(&tg.Config)
		if err != nil {
			continue // parsing reported it
		}
		known, err := r.knownNow(ctx, c.URN)
		if err != nil {
			return nil, err
		}
		if !known {
			errs = append(errs, &rules.Error{Pos: tg.Pos, Rule: rule.Name, Msg: fmt.Sprintf(
				"target %q: topic %s does not exist: create it first (PUT /v1/topics/{name}; GET /v1/topics lists them), or declare the function in the topics file",
				tg.ID, c.URN)})
		}
	}
	return errs, nil
}

// knownNow is Known, reading an API topic from the bucket.
func (r *Registry) knownNow(ctx context.Context, urn string) (bool, error) {
	if r.Known(urn) {
		return true, nil
	}
	if !IsTopicURN(urn) {
		return false, nil // functions are the file's only
	}
	kv, err := r.bucket()
	if err != nil {
		return false, err
	}
	name := urn[strings.LastIndexByte(urn, ':')+1:]
	if !nameRe.MatchString(name) {
		return false, nil // no topic can have that name
	}
	e, err := kv.Get(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: read topic %s: %w", ErrUnavailable, name, err)
	}
	t, ok := r.decode(e)
	return ok && t.URN == urn, nil
}

// TopicTarget is what one topic target of a rule runs as now.
type TopicTarget struct {
	// ID is the rule's target id, URN the topic or function it names.
	ID, URN string
	// Known is false when the registry has no such topic or function:
	// the target then runs as itself, and its deliveries wait.
	Known bool
	// Runs are the targets it runs as: one per subscription of a topic
	// (id "<ID>-<subscription id>", kind subscription), or the function
	// (id ID, kind function); none for a topic without subscriptions.
	Runs []RunTarget
}

// RunTarget is one target a topic target runs as.
type RunTarget struct{ ID, Kind string }

// TopicTargets returns what each of rule's topic targets runs as now,
// in the rule's order, as Expand installs it; none when it has none.
func (r *Registry) TopicTargets(rule *rules.Rule) []TopicTarget {
	expanded, inputOf, ok := r.expand(rule, false)
	if !ok {
		return nil
	}
	var out []TopicTarget
	for _, tg := range rule.Targets {
		if tg.Kind != KindTopic {
			continue
		}
		c, _ := decodeTopic(&tg.Config)
		tt := TopicTarget{ID: tg.ID, URN: c.URN, Known: r.Known(c.URN), Runs: []RunTarget{}}
		for _, e := range expanded {
			if inputOf[e.ID] == tg.ID && e.Kind != KindTopic {
				tt.Runs = append(tt.Runs, RunTarget{ID: e.ID, Kind: e.Kind})
			}
		}
		out = append(out, tt)
	}
	return out
}
