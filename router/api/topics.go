package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/topics"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// Error codes of the topics endpoints (see codes.go for the others).
const (
	CodeInvalidTopic  = "AB.1020" // 400: a topic or subscription is invalid (name, protocol, endpoint, unknown function)
	CodeTopicNotFound = "AB.4046" // 404: no such topic, or no such subscription of it
	CodeTopicConflict = "AB.4092" // 409: the topic is declared in the topics file, so the API cannot change it
)

// Topics is what the topics endpoints manage; *topics.Registry is the
// real one (see its methods for their errors).
type Topics interface {
	List() []topics.Topic
	Get(name string) (topics.Topic, bool)
	Modify(ctx context.Context, name string, change func(current topics.Topic, exists bool) (topics.Topic, error)) (topics.Topic, bool, error)
	Delete(ctx context.Context, name string, revision uint64) error
	// Unknown and TopicTargets tell what a rule's topic targets name
	// (topics.Registry's).
	Unknown(ctx context.Context, rule *rules.Rule) (rules.Errors, error)
	TopicTargets(rule *rules.Rule) []topics.TopicTarget
}

// WithTopics serves /v1/topics from reg. Default: no topics endpoints.
func WithTopics(reg Topics) Option { return func(o *options) { o.topics = reg } }

func (s *Server) routeTopics() {
	s.route("/v1/topics", methods{http.MethodGet: {auth.ActionTopicsRead, everyBus(s.listTopics)}})
	s.route("/v1/topics/{name}", methods{http.MethodGet: {auth.ActionTopicsRead, everyBus(s.getTopic)},
		http.MethodPut: {auth.ActionTopicsWrite, everyBus(s.putTopic)}, http.MethodDelete: {auth.ActionTopicsWrite, everyBus(s.deleteTopic)}})
	s.route("/v1/topics/{name}/subscriptions", methods{http.MethodGet: {auth.ActionTopicsRead, everyBus(s.listSubscriptions)}})
	s.route("/v1/topics/{name}/subscriptions/{id}", methods{http.MethodPut: {auth.ActionTopicsWrite, everyBus(s.putSubscription)},
		http.MethodDelete: {auth.ActionTopicsWrite, everyBus(s.deleteSubscription)}})
}

// everyBus lets only identities without a bus limit call h. Topics are
// global: a rule of any bus and every CTS notification (bus default) may
// name one, so whoever reads a topic learns where other buses' events go,
// and whoever adds a subscription receives them.
func everyBus(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id := auth.FromContext(r.Context()); id != nil && id.Buses() != nil {
			writeAuthError(w, &auth.Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Msg: fmt.Sprintf("identity %q is limited to buses %v: topics serve every bus (rules of any bus and CTS notifications name them), so only an identity without buses may read or change them", id.Name, id.Buses())})
			return
		}
		h(w, r)
	}
}

// masked is t as the API shows it: subscription secrets as "***", and
// endpoint URLs as the rules API shows webhook URLs (sinks.RedactURL: a
// password and every query value as "***"). Registry.Put refuses the
// masked text back, so a topic read and PUT again cannot replace real
// credentials with it.
func masked(t topics.Topic) topics.Topic {
	t.Subscriptions = slices.Clone(t.Subscriptions)
	for i := range t.Subscriptions {
		sub := &t.Subscriptions[i]
		if sub.Secret != "" {
			sub.Secret = sinks.Redacted
		}
		if sub.Protocol == topics.ProtocolHTTP || sub.Protocol == topics.ProtocolHTTPS {
			sub.Endpoint = sinks.RedactURL(sub.Endpoint)
		}
	}
	return t
}

func (s *Server) listTopics(w http.ResponseWriter, _ *http.Request) {
	all := s.opts.topics.List()
	out := make([]topics.Topic, len(all))
	for i, t := range all {
		out[i] = masked(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"topics": out})
}

func (s *Server) topic(w http.ResponseWriter, r *http.Request) (topics.Topic, bool) {
	t, ok := s.opts.topics.Get(r.PathValue("name"))
	if !ok {
		writeError(w, http.StatusNotFound, CodeTopicNotFound, "no topic "+r.PathValue("name"))
	}
	return t, ok
}

func (s *Server) getTopic(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.topic(w, r); ok {
		writeTopic(w, http.StatusOK, t)
	}
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.topic(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]any{"subscriptions": masked(t).Subscriptions})
	}
}

// topicBody is PUT /v1/topics/{name}'s body.
type topicBody struct {
	Region        string                `json:"region"`
	Project       string                `json:"project"`
	Subscriptions []topics.Subscription `json:"subscriptions"`
}

// putTopic creates (201) or replaces (200) an API topic; with If-Match,
// only the topic at that revision ("*": any existing one), else 412.
func (s *Server) putTopic(w http.ResponseWriter, r *http.Request) {
	pre, ok := precondition(w, r)
	if !ok {
		return
	}
	var body topicBody
	if !s.readJSON(w, r, "topic body (nothing stored)", &body) {
		return
	}
	t, existed, err := s.opts.topics.Modify(r.Context(), r.PathValue("name"), func(cur topics.Topic, exists bool) (topics.Topic, error) {
		if err := topicPrecondition(pre, cur, exists); err != nil {
			return topics.Topic{}, err
		}
		return topics.Topic{Name: cur.Name, Region: body.Region, Project: body.Project, Subscriptions: body.Subscriptions}, nil
	})
	if err != nil {
		s.topicError(w, err)
		return
	}
	status := http.StatusOK
	if !existed {
		status = http.StatusCreated
	}
	writeTopic(w, status, t)
}

// errTopicPrecondition: If-Match names another revision of the topic.
var errTopicPrecondition = errors.New("topic revision does not match If-Match")

func topicPrecondition(pre *Precondition, cur topics.Topic, exists bool) error {
	switch {
	case pre == nil:
		return nil
	case !exists:
		return fmt.Errorf("%w: topic %s does not exist", errTopicPrecondition, cur.Name)
	case !pre.Any && pre.Revision != cur.Revision:
		return fmt.Errorf("%w: topic %s is at revision %d, not %d", errTopicPrecondition, cur.Name, cur.Revision, pre.Revision)
	}
	return nil
}

// deleteTopic deletes an API topic (204); with If-Match, only the topic
// at that revision, else 412.
func (s *Server) deleteTopic(w http.ResponseWriter, r *http.Request) {
	pre, ok := precondition(w, r)
	if !ok {
		return
	}
	var rev uint64
	if pre != nil {
		rev = pre.Revision // "*": any existing topic, as a plain DELETE
	}
	if err := s.opts.topics.Delete(r.Context(), r.PathValue("name"), rev); err != nil {
		s.topicError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// putSubscription adds (201) or replaces (200) one subscription of a
// topic. It changes that subscription only: concurrent changes of the
// topic's others are kept (Modify reads the topic again when one lands
// between its read and its write).
func (s *Server) putSubscription(w http.ResponseWriter, r *http.Request) {
	var sub topics.Subscription
	if !s.readJSON(w, r, "subscription body (nothing stored)", &sub) {
		return
	}
	sub.ID = r.PathValue("id")
	status := http.StatusCreated
	t, _, err := s.opts.topics.Modify(r.Context(), r.PathValue("name"), func(t topics.Topic, exists bool) (topics.Topic, error) {
		if !exists {
			return topics.Topic{}, fmt.Errorf("%w: %s", topics.ErrNotFound, t.Name)
		}
		status = http.StatusCreated
		if i := slices.IndexFunc(t.Subscriptions, func(x topics.Subscription) bool { return x.ID == sub.ID }); i >= 0 {
			t.Subscriptions, status = slices.Clone(t.Subscriptions), http.StatusOK
			t.Subscriptions[i] = sub
		} else {
			t.Subscriptions = append(slices.Clone(t.Subscriptions), sub)
		}
		return t, nil
	})
	if err != nil {
		s.topicError(w, err)
		return
	}
	writeTopic(w, status, t)
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	t, ok := s.topic(w, r)
	if !ok {
		return
	}
	if !slices.ContainsFunc(t.Subscriptions, func(x topics.Subscription) bool { return x.ID == r.PathValue("id") }) {
		writeError(w, http.StatusNotFound, CodeTopicNotFound, "topic "+t.Name+" has no subscription "+r.PathValue("id"))
		return
	}
	_, _, err := s.opts.topics.Modify(r.Context(), r.PathValue("name"), func(t topics.Topic, exists bool) (topics.Topic, error) {
		if !exists {
			return topics.Topic{}, fmt.Errorf("%w: %s", topics.ErrNotFound, t.Name)
		}
		i := slices.IndexFunc(t.Subscriptions, func(x topics.Subscription) bool { return x.ID == r.PathValue("id") })
		if i < 0 {
			return topics.Topic{}, fmt.Errorf("%w: topic %s has no subscription %s", topics.ErrNotFound, t.Name, r.PathValue("id"))
		}
		t.Subscriptions = slices.Delete(slices.Clone(t.Subscriptions), i, i+1)
		return t, nil
	})
	if err != nil {
		s.topicError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeTopic answers t, masked, with its revision as ETag.
func writeTopic(w http.ResponseWriter, status int, t topics.Topic) {
	if t.Revision > 0 {
		w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(t.Revision, 10)))
	}
	writeJSON(w, status, masked(t))
}

func (s *Server) topicError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, topics.ErrInvalid):
		writeError(w, http.StatusBadRequest, CodeInvalidTopic, err.Error()+"; nothing stored")
	case errors.Is(err, topics.ErrNotFound):
		writeError(w, http.StatusNotFound, CodeTopicNotFound, err.Error())
	case errors.Is(err, errTopicPrecondition):
		writeError(w, http.StatusPreconditionFailed, CodePrecondition, err.Error()+"; nothing stored")
	case errors.Is(err, topics.ErrRevision):
		writeError(w, http.StatusPreconditionFailed, CodePrecondition, err.Error()+"; nothing deleted")
	case errors.Is(err, topics.ErrConflict):
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error()+"; nothing stored")
	case errors.Is(err, topics.ErrReadOnly):
		writeError(w, http.StatusConflict, CodeTopicConflict, err.Error()+": change it in the topics file")
	default:
		s.opts.log.Error().Err(err).Msg("topics bucket unavailable")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the topics bucket (NATS KV) did not answer; retrying is safe")
	}
}
