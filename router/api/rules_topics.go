package api

import (
	"context"
	"fmt"

	"github.com/auditbus/auditbus/rules"
)

// topicJSON is what a rule's topic target runs as now: the topic or
// function its URN names, known or not, and the targets it expands to
// (id, kind, state and backlog, settings never shown, as the rule's own).
type topicJSON struct {
	URN string `json:"urn"`
	// Known is false when no topic or function has the URN: the target's
	// deliveries wait in its queue until one does.
	Known bool         `json:"known"`
	Runs  []targetJSON `json:"runs"`
}

// withTopicTargets adds to v's topic targets what they run as now.
func (s *Server) withTopicTargets(v ruleJSON, r *rules.Rule) ruleJSON {
	if s.opts.topics == nil || r == nil {
		return v
	}
	for _, tt := range s.opts.topics.TopicTargets(r) {
		for i := range v.Targets {
			if v.Targets[i].ID != tt.ID || v.Targets[i].Kind != "topic" {
				continue
			}
			runs := ruleJSON{Bus: v.Bus, Name: v.Name, Targets: []targetJSON{}}
			for _, rt := range tt.Runs {
				runs.Targets = append(runs.Targets, targetJSON{ID: rt.ID, Kind: rt.Kind})
			}
			v.Targets[i].Topic = &topicJSON{URN: tt.URN, Known: tt.Known, Runs: s.withTargetState(runs).Targets}
		}
	}
	return v
}

// topicsKnown is nil when every topic target of r names a topic or
// function that exists, else their problems as rules.Errors (one per
// target), or ErrTopicsUnavailable when the topics bucket did not answer.
func (s *Server) topicsKnown(ctx context.Context, r *rules.Rule) error {
	if s.opts.topics == nil || r == nil {
		return nil
	}
	unknown, err := s.opts.topics.Unknown(ctx, r)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w", ErrTopicsUnavailable, err)
	case len(unknown) > 0:
		return unknown
	}
	return nil
}
