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

	"github.com/auditbus/auditbus/router/bus"
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
	redactor       *sources.Redactor
	redactBuses    []string // of /v1/events data; see WithEventRedaction
	gatherer       prometheus.Gatherer
	reg            prometheus.Registerer
	rules          RuleStore
	signingCert    []byte // PEM; nil: no /v1/signing-cert
	dlq            DLQ
	targets        TargetControl
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

// WithMetrics registers the API's metrics on reg and serves g at /metrics.
// Default: no /metrics.
func WithMetrics(reg prometheus.Registerer, g prometheus.Gatherer) Option {
	return func(o *options) { o.reg, o.gatherer = reg, g }
}

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
	s.route("/v1/events", map[string]http.HandlerFunc{http.MethodPost: s.postEvents})
	s.route("/v1/sources/cloudaudit", map[string]http.HandlerFunc{http.MethodPost: s.postSource(s.cloudAudit)})
	s.route("/v1/sources/cts", map[string]http.HandlerFunc{http.MethodPost: s.postSource(s.cts)})
	s.route("/v1/sources/k8s-audit", map[string]http.HandlerFunc{http.MethodPost: s.postSource(s.k8sAudit)})
	s.route("/healthz", map[string]http.HandlerFunc{http.MethodGet: s.healthz})
	s.route("/readyz", map[string]http.HandlerFunc{http.MethodGet: s.readyz})
	if o.rules != nil {
		s.route("/v1/rules", map[string]http.HandlerFunc{http.MethodGet: s.listRules})
		s.route("/v1/rules/{name}", map[string]http.HandlerFunc{http.MethodGet: s.getRule, http.MethodPut: s.putRule, http.MethodDelete: s.deleteRule})
		s.route("/v1/rules:test", map[string]http.HandlerFunc{http.MethodPost: s.testRule})
		if o.targets != nil {
			s.route("/v1/rules/{name}/targets/{action}", map[string]http.HandlerFunc{http.MethodPost: s.enableTarget})
		}
	}
	if o.targets != nil {
		// GET or POST, as the CloudEvents webhook spec lets a callback be.
		confirm, unsubscribe := s.answerSubscription(s.confirmSubscription), s.answerSubscription(s.unsubscribe)
		s.route(dispatch.SubscriptionConfirmPath, map[string]http.HandlerFunc{http.MethodGet: confirm, http.MethodPost: confirm})
		s.route(dispatch.SubscriptionUnsubscribePath, map[string]http.HandlerFunc{http.MethodGet: unsubscribe, http.MethodPost: unsubscribe})
	}
	if o.dlq != nil {
		s.route("/v1/dlq", map[string]http.HandlerFunc{http.MethodGet: s.listDLQ})
		s.route("/v1/dlq:redrive", map[string]http.HandlerFunc{http.MethodPost: s.redriveDLQ})
	}
	if o.signingCert != nil {
		s.route("/v1/signing-cert", map[string]http.HandlerFunc{http.MethodGet: s.signingCert})
	}
	if o.gatherer != nil {
		s.route("/metrics", map[string]http.HandlerFunc{http.MethodGet: promhttp.HandlerFor(o.gatherer, promhttp.HandlerOpts{}).ServeHTTP})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no endpoint "+r.URL.Path)
	})
	return s
}

// route registers path with one handler per method, answering other
// methods with a JSON 405 rather than ServeMux's plain-text one.
func (s *Server) route(path string, byMethod map[string]http.HandlerFunc) {
	allow := strings.Join(slices.Sorted(maps.Keys(byMethod)), ", ")
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		h, ok := byMethod[r.Method]
		if !ok {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed on "+path+"; use "+allow)
			return
		}
		h(w, r)
	})
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
		body["rules"] = s.opts.rules.Status()
	}
	if err := s.opts.ready(r.Context()); err != nil {
		body["status"], body["detail"] = "not ready", err.Error()
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}
