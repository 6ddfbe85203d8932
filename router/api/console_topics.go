package api

import (
	"context"
	"net/http"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/topics"
)

// TopicsList is GET /v1/topics: every topic, its subscriptions' secrets
// and endpoint credentials masked as the endpoint masks them; nil without
// topics. Errors: an *auth.Error for an identity limited to buses (topics
// serve every bus).
func (s *Server) TopicsList(ctx context.Context) ([]topics.Topic, error) {
	if s.opts.topics == nil {
		return nil, nil
	}
	if id := auth.FromContext(ctx); id != nil && id.Buses() != nil {
		return nil, &auth.Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Msg: "identity " + id.Name + " is limited to buses: topics serve every bus, so only an identity without buses may read them"}
	}
	all := s.opts.topics.List()
	out := make([]topics.Topic, len(all))
	for i, t := range all {
		out[i] = masked(t)
	}
	return out, nil
}

// NotificationsList is the CTS key-operation notifications of every
// project, by creation time, as GET /v3/{project_id}/notifications/{type}
// lists them; nil without them. Errors: an *auth.Error for an identity
// that may not use bus cts.NotificationBus.
func (s *Server) NotificationsList(ctx context.Context) ([]cts.Notification, error) {
	if s.opts.notifications == nil || s.opts.rules == nil {
		return nil, nil
	}
	if !auth.BusAllowed(ctx, cts.NotificationBus) {
		return nil, auth.Forbidden(auth.FromContext(ctx), cts.NotificationBus)
	}
	return s.storedNotifications(""), nil
}
