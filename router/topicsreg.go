package router

import (
	"context"

	"github.com/auditbus/auditbus/router/topics"
	"github.com/auditbus/auditbus/rules"
)

// loadTopics reads the topics file, so a broken one stops start-up
// before anything listens.
func (s *Server) loadTopics() error {
	f, err := topics.ReadFile(s.cfg.TopicsFile)
	if err != nil {
		return err
	}
	s.topics = topics.New(f, s.cfg.Log)
	return nil
}

// startTopics reads and watches the API topics and returns what installs
// rule sets in the router: with topic targets expanded, and again
// whenever a topic changes.
func (s *Server) startTopics(ctx context.Context) (func(context.Context, *rules.Set) error, error) {
	if err := s.topics.Start(ctx, s.js, s.cfg.Stream.Replicas); err != nil {
		return nil, err
	}
	a := topics.NewApplier(s.bgCtx, s.topics, s.router.SetRules, s.cfg.Log)
	s.reg.MustRegister(a.Metrics())
	return a.Apply, nil
}
