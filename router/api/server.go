package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/router/sources"
)

// Publisher stores events; *bus.Publisher is the real one.
type Publisher interface {
	Publish(ctx context.Context, bus string, events []event.Event) ([]bus.Result, error)
}

// DefaultMaxBodyBytes is the default request body limit (1 MiB).
const DefaultMaxBodyBytes = ingest.DefaultMaxBodyBytes

// DefaultPublishTimeout bounds the wait for JetStream's acknowledgements.
const DefaultPublishTimeout = 10 * time.Second

type options struct {
	maxBody        int64
	publishTimeout time.Duration
	log            zerolog.Logger
	ready          func(context.Context) error
	eventsLag      func() (dispatch.EventsLag, bool)
	redactor       *sources.Redactor
	redactBuses    []string // of /v1/events data; see WithEventRedaction
	gatherer       prometheus.Gatherer
	reg            prometheus.Registerer
	rules          RuleStore
	signingCert    []byte // PEM; nil: no /v1/signing-cert
	dlq            DLQ
	targets        TargetControl
	auth           Authorizer
	ingest         *auth.Limits // per-client ingest rate; nil: none
	index          AuditIndex   // nil: no search endpoints
	indexStatus    IndexStatus
	topics         Topics                     // nil: no topics endpoints
	notifications  Notifications              // nil: no CTS notification endpoints
	trackers       *cts.Trackers              // nil: no tracker endpoints
	replays        Replays                    // nil: no replay endpoints
	console        func(*Server) http.Handler // nil: no /console/
}

// Option configures the Server.
type Option func(*options)

// WithMaxBodyBytes limits request bodies. Default 1 MiB.
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithPublishTimeout bounds the wait for the bus. Default 10s.
func WithPublishTimeout(d time.Duration) Option { return func(o *options) { o.publishTimeout = d } }

// WithLogger sets the logger. Default: none.
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.log = l } }

// WithRedactKeys sets the key patterns whose values the source endpoints
// (and /v1/events, see WithEventRedaction) redact before storing them;
// the value detectors stay on while any pattern is given. Default
// sources.DefaultRedactKeys; an empty list redacts nothing.
func WithRedactKeys(keys []string) Option {
	return func(o *options) { o.redactor = sources.NewRedactor(keys) }
}

// WithReadiness sets the check behind /readyz: nil error means ready.
// Default: always ready.
func WithReadiness(f func(context.Context) error) Option { return func(o *options) { o.ready = f } }

// WithEventsLag shows the events consumer's lag (events stored but not
// yet fanned out, and in flight) in /readyz as "events", while there is
// any. Default: none.
func WithEventsLag(f func() (dispatch.EventsLag, bool)) Option {
	return func(o *options) { o.eventsLag = f }
}

// WithMetrics registers the API's metrics on reg and serves g at /metrics.
// Default: no /metrics.
func WithMetrics(reg prometheus.Registerer, g prometheus.Gatherer) Option {
	return func(o *options) { o.reg, o.gatherer = reg, g }
}

// Authorizer decides whether a request may call an endpoint requiring
// action; *auth.Authenticator is the real one. The error it returns is
// answered as it is when it is an *auth.Error, else as a 401.
type Authorizer interface {
	Authorize(r *http.Request, action string) (*auth.Identity, error)
}

// WithAuth requires every endpoint but /healthz, /readyz, the signing
// certificate and the subscription URLs to be authorized by a. Default:
// no auth, every request allowed.
func WithAuth(a Authorizer) Option { return func(o *options) { o.auth = a } }

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	pub     Publisher
	opts    options
	mux     *http.ServeMux
	metrics *metrics
}

var _ http.Handler = (*Server)(nil)

// New returns the API serving pub.
func New(pub Publisher, opts ...Option) *Server {
	o := options{maxBody: DefaultMaxBodyBytes, publishTimeout: DefaultPublishTimeout, log: zerolog.Nop(),
		ready: func(context.Context) error { return nil }, redactor: sources.NewRedactor(sources.DefaultRedactKeys),
		redactBuses: []string{AllBuses}}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{pub: pub, opts: o, mux: http.NewServeMux(), metrics: newMetrics(o.reg)}
	s.route("/v1/events", methods{http.MethodPost: {auth.ActionEventsPut, s.postEvents}})
	s.route("/v1/sources/cloudaudit", methods{http.MethodPost: {auth.ActionSourcesPut, s.postSource(s.cloudAudit)}})
	s.route("/v1/sources/cts", methods{http.MethodPost: {auth.ActionSourcesPut, s.postSource(s.cts)}})
	k8s := methods{http.MethodPost: {auth.ActionSourcesPut, s.postSource(s.k8sAudit)}}
	s.routeKube("/v1/sources/k8s-audit", k8s)
	s.routeKube("/v1/sources/k8s-audit/{cluster}", k8s)
	s.route("/healthz", methods{http.MethodGet: {public, s.healthz}})
	s.route("/readyz", methods{http.MethodGet: {public, s.readyz}})
	if o.rules != nil {
		s.route("/v1/rules", methods{http.MethodGet: {auth.ActionRulesRead, s.listRules}})
		s.route("/v1/rules/{name}", methods{http.MethodGet: {auth.ActionRulesRead, s.getRule},
			http.MethodPut: {auth.ActionRulesWrite, s.putRule}, http.MethodDelete: {auth.ActionRulesWrite, s.deleteRule}})
		s.route("/v1/rules:test", methods{http.MethodPost: {auth.ActionRulesTest, s.testRule}})
		if o.targets != nil {
			s.route("/v1/rules/{name}/targets/{action}", methods{http.MethodPost: {auth.ActionTargetsWrite, s.enableTarget}})
		}
	}
	if o.targets != nil {
		// GET or POST, as the CloudEvents webhook spec lets a callback be.
		// Public: the URL itself is the capability (it carries the token).
		confirm := endpoint{public, s.answerSubscription(s.confirmSubscription)}
		unsubscribe := endpoint{public, s.answerSubscription(s.unsubscribe)}
		s.route(dispatch.SubscriptionConfirmPath, methods{http.MethodGet: confirm, http.MethodPost: confirm})
		s.route(dispatch.SubscriptionUnsubscribePath, methods{http.MethodGet: unsubscribe, http.MethodPost: unsubscribe})
	}
	if o.dlq != nil {
		s.route("/v1/dlq", methods{http.MethodGet: {auth.ActionDLQRead, s.listDLQ}})
		s.route("/v1/dlq:redrive", methods{http.MethodPost: {auth.ActionDLQRedrive, s.redriveDLQ}})
	}
	if o.index != nil {
		s.route("/v1/audit-events", methods{http.MethodGet: {auth.ActionAuditRead, s.listAuditEvents}})
		s.route("/v1/audit-events:search", methods{http.MethodPost: {auth.ActionAuditRead, s.searchAuditEvents}})
		s.routeCTS("/v3/{project_id}/traces", methods{http.MethodGet: {auth.ActionCTSTraceList, s.listTraces}})
		s.routeHSS("/v5/{project_id}/container/kubernetes/cluster/audit-logs", methods{http.MethodGet: {auth.ActionHSSContainerList, s.listClusterAuditLogs}})
		s.routeKube("/v1/kubernetes-audits", methods{http.MethodGet: {auth.ActionAuditRead, s.listKubernetesAudits}})
	}
	if o.topics != nil {
		s.routeTopics()
	}
	if o.notifications != nil {
		s.routeNotifications()
	}
	if o.trackers != nil {
		s.routeTrackers()
	}
	if o.replays != nil {
		s.routeReplays()
	}
	if o.signingCert != nil {
		s.route("/v1/signing-cert", methods{http.MethodGet: {public, s.signingCert}})
	}
	if o.gatherer != nil {
		s.route("/metrics", methods{http.MethodGet: {auth.ActionMetricsRead, promhttp.HandlerFor(o.gatherer, promhttp.HandlerOpts{}).ServeHTTP}})
	}
	if o.console != nil {
		s.mux.Handle("/console/", o.console(s))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no endpoint "+r.URL.Path)
	})
	return s
}

// public marks an endpoint anyone may call, with or without auth.
const public = ""

// endpoint is one method of a path: the action it requires and its handler.
type endpoint struct {
	action string
	h      http.HandlerFunc
}

type methods map[string]endpoint

// route registers path with one endpoint per method, answering other
// methods with a JSON 405 rather than ServeMux's plain-text one. With
// auth, an endpoint's action is checked before its handler runs, which
// finds the identity in the request's context (auth.FromContext).
func (s *Server) route(path string, byMethod methods) { s.handle(path, byMethod, nil) }

// routeKube is route for the endpoints the kube-apiserver posts to: their
// errors are Kubernetes Status objects too (see kubeStatusWriter).
func (s *Server) routeKube(path string, byMethod methods) {
	s.handle(path, byMethod, func(w http.ResponseWriter) http.ResponseWriter { return kubeStatusWriter{w} })
}

// routeCTS is route for the CTS-compatible endpoints: their errors carry
// CTS codes (see ctsErrorWriter).
func (s *Server) routeCTS(path string, byMethod methods) {
	s.handle(path, byMethod, func(w http.ResponseWriter) http.ResponseWriter { return ctsErrorWriter{w} })
}

// handle registers path; wrap, when set, marks the writer of every
// answer, so errors take the shape that path's clients read.
func (s *Server) handle(path string, byMethod methods, wrap func(http.ResponseWriter) http.ResponseWriter) {
	allow := strings.Join(slices.Sorted(maps.Keys(byMethod)), ", ")
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if wrap != nil {
			w = wrap(w)
		}
		ep, ok := byMethod[r.Method]
		if !ok {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed on "+path+"; use "+allow)
			return
		}
		if ep.action != public && s.opts.auth != nil {
			id, err := s.opts.auth.Authorize(r, ep.action)
			if err != nil {
				writeAuthError(w, err)
				return
			}
			r = r.WithContext(auth.NewContext(r.Context(), id))
		}
		ep.h(w, r)
		if changes[ep.action] {
			s.logChange(w, r)
		}
	})
}

// changes are the actions whose every use is logged: who changed the
// rules, woke a target or sent dead letters again is part of the audit
// trail of the audit trail.
var changes = map[string]bool{auth.ActionRulesWrite: true, auth.ActionTargetsWrite: true, auth.ActionDLQRedrive: true,
	auth.ActionTopicsWrite: true, auth.ActionCTSNotificationCreate: true, auth.ActionCTSNotificationUpdate: true,
	auth.ActionCTSNotificationDelete: true,
	auth.ActionCTSTrackerCreate:      true, auth.ActionCTSTrackerUpdate: true, auth.ActionCTSTrackerDelete: true,
	auth.ActionReplaysWrite: true}

func (s *Server) logChange(w http.ResponseWriter, r *http.Request) {
	who := "(auth off)"
	if id := auth.FromContext(r.Context()); id != nil {
		who = id.Name
	}
	status := 0
	if rec, ok := w.(*statusRecorder); ok {
		status = rec.status
	}
	s.opts.log.Info().Str("identity", who).Str("method", r.Method).Str("path", r.URL.Path).
		Str("query", r.URL.RawQuery).Int("status", status).Str("client", r.RemoteAddr).Msg("API change")
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.metrics.requests.WithLabelValues(r.Method, routeOf(r.URL.Path), statusClass(rec.status)).Observe(time.Since(start).Seconds())
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 503 when the readiness check fails. Broken rule sources
// do not make the server unready (their last good versions run): their
// problems are listed under "rules".
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ready"}
	if s.opts.rules != nil {
		st := s.opts.rules.Status()
		if s.opts.auth != nil {
			// Public: rule problems quote files and target URLs, which
			// may hold secrets; GET /v1/rules has them for rules:read.
			body["rules"] = map[string]int{"loaded": st.Loaded, "broken": len(st.Errors), "pending_removals": len(st.PendingRemovals)}
		} else {
			body["rules"] = st
		}
	}
	if s.opts.indexStatus != nil {
		// Not a readiness condition: the index is off the ingest path, and
		// a lagging index must not take the API out of a load balancer.
		st := s.opts.indexStatus.Status()
		if s.opts.auth != nil {
			st.Error = "" // it may name the database server
		}
		body["index"] = st
	}
	if s.opts.eventsLag != nil {
		if lag, ok := s.opts.eventsLag(); ok && (lag.Pending > 0 || lag.InFlight > 0) {
			body["events"] = lag
		}
	}
	if err := s.opts.ready(r.Context()); err != nil {
		body["status"], body["detail"] = "not ready", err.Error()
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}
