package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Defaults.
const (
	DefaultPollInterval = 2 * time.Second
	// DefaultFailureBurst failed attempts from one address are allowed at
	// once, then DefaultFailureRate per second.
	DefaultFailureBurst = 10
	DefaultFailureRate  = 1.0
)

// Authenticator authenticates and authorizes API requests against an auth
// file. It is safe for concurrent use.
type Authenticator struct {
	path   string
	table  atomic.Pointer[table]
	reload sync.Mutex // serializes Reload (Run's and callers')
	loaded []byte     // the file's bytes last compiled, for change detection; under reload
	sig    *SignatureVerifier
	// failures slows an address that keeps failing: each failure takes
	// a token, and while its bucket is empty its failed attempts are
	// answered 429 instead of 401, unlogged. A valid credential from the
	// address still gets through, so one bad client behind a NAT or a
	// proxy locks nobody else out. Tokens are 256 bits, unguessable
	// anyway; this bounds how fast a leaked list can be tested and keeps
	// failure log lines to a trickle.
	failures *Limits
	log      zerolog.Logger
	metrics  *metrics
	poll     time.Duration
}

// Option configures an Authenticator.
type Option func(*Authenticator)

// WithLogger logs refusals (with their reasons) and reloads. Default: none.
func WithLogger(l zerolog.Logger) Option { return func(a *Authenticator) { a.log = l } }

// WithRegisterer registers the auth metrics on reg. Default: none.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(a *Authenticator) { a.metrics = newMetrics(reg) }
}

// WithPollInterval sets how often Run checks the file for changes.
// Default DefaultPollInterval.
func WithPollInterval(d time.Duration) Option { return func(a *Authenticator) { a.poll = d } }

// WithFailureLimit sets how many failed attempts one address may make at
// once (burst) and how fast it regains them (perSecond); perSecond <= 0
// turns the limit off. Default DefaultFailureBurst, DefaultFailureRate.
func WithFailureLimit(burst int, perSecond float64) Option {
	return func(a *Authenticator) {
		a.failures = nil
		if perSecond > 0 {
			a.failures = NewLimits(perSecond, burst)
		}
	}
}

// WithSignatureOptions configures the verification of signed requests.
func WithSignatureOptions(opts ...SignatureOption) Option {
	return func(a *Authenticator) { a.sig = NewSignatureVerifier(a.secretKey, opts...) }
}

// New loads the auth file at path. The error is the file's problems
// (FileErrors, with lines and columns) or why it could not be read.
func New(path string, opts ...Option) (*Authenticator, error) {
	a := &Authenticator{path: path, log: zerolog.Nop(), poll: DefaultPollInterval,
		failures: NewLimits(DefaultFailureRate, DefaultFailureBurst), metrics: newMetrics(nil)}
	a.sig = NewSignatureVerifier(a.secretKey)
	for _, o := range opts {
		o(a)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth file: %w", err)
	}
	t, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	a.install(t, raw)
	return a, nil
}

func (a *Authenticator) install(t *table, raw []byte) {
	a.table.Store(t)
	a.loaded = raw
	a.metrics.identities.Set(float64(len(t.names)))
}

// HasCertificates reports whether any identity is presented by a client
// certificate, which needs the server to ask for one (--tls-client-ca).
func (a *Authenticator) HasCertificates() bool { return len(a.table.Load().certs) > 0 }

// Run reloads the file whenever it changes until ctx ends. A file that no
// longer parses is logged and counted, and the identities already loaded
// stay in force.
func (a *Authenticator) Run(ctx context.Context) {
	tick := time.NewTicker(a.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			a.Reload()
		}
	}
}

// Reload reads the file again if it changed; the error is why the new
// version was refused (the old one stays).
func (a *Authenticator) Reload() error {
	a.reload.Lock()
	defer a.reload.Unlock()
	raw, err := os.ReadFile(a.path)
	if err == nil && bytes.Equal(raw, a.loaded) {
		return nil
	}
	var t *table
	if err == nil {
		t, err = ParseFile(a.path)
	}
	if err != nil {
		a.metrics.reloads.WithLabelValues("error").Inc()
		a.log.Error().Err(err).Str("file", a.path).Msg("auth file not reloaded; the identities loaded before stay in force")
		return err
	}
	a.install(t, raw)
	a.metrics.reloads.WithLabelValues("ok").Inc()
	a.log.Info().Str("file", a.path).Int("identities", len(t.names)).Msg("auth file reloaded")
	return nil
}

func (a *Authenticator) secretKey(ak string) ([]byte, bool) {
	k, ok := a.table.Load().keys[ak]
	return k.secret, ok
}

// Authorize authenticates r and checks that its identity may perform
// action. It returns the identity, or an *Error to answer: 401
// (CodeUnauthenticated) without a valid identity, 429 (CodeThrottled)
// instead while the client's address has failed too often, 403
// (CodeForbidden) naming the missing action.
func (a *Authenticator) Authorize(r *http.Request, action string) (*Identity, error) {
	id, e := a.authenticate(r)
	if e != nil {
		addr := ClientKey(r)
		if wait := a.blocked(addr); wait > 0 {
			a.metrics.failures.WithLabelValues("throttled").Inc()
			return nil, &Error{Status: http.StatusTooManyRequests, Code: CodeThrottled, RetryAfter: wait,
				Msg: "too many failed authentication attempts from this address; retry later"}
		}
		if a.failures != nil {
			a.failures.Take(addr)
		}
		a.metrics.failures.WithLabelValues(e.Reason).Inc()
		a.log.Warn().Str("client", r.RemoteAddr).Str("reason", e.Reason).AnErr("detail", e.Detail).Msg("request refused: no valid identity")
		return nil, e
	}
	if !id.Allows(action) {
		a.metrics.failures.WithLabelValues("forbidden").Inc()
		return id, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Msg: fmt.Sprintf("identity %q may not %s: grant it the action %q", id.Name, action, action)}
	}
	return id, nil
}

func (a *Authenticator) blocked(addr string) time.Duration {
	if a.failures == nil {
		return 0
	}
	return a.failures.Empty(addr)
}

func unauthenticated(reason, msg string, detail error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Msg: msg, Reason: reason, Detail: detail}
}

// authenticate finds the request's identity. Credentials in headers come
// first; a client certificate counts only when the request has none, so a
// wrong token is never rescued by a certificate.
func (a *Authenticator) authenticate(r *http.Request) (*Identity, *Error) {
	t := a.table.Load()
	authz := r.Header.Get("Authorization")
	if authz != "" && !isBearer(authz) {
		ak, err := a.sig.Verify(r)
		if errors.Is(err, ErrNoSignature) {
			return nil, unauthenticated("scheme", "unsupported Authorization scheme: use Bearer <token> or SDK-HMAC-SHA256", nil)
		}
		if err != nil {
			return nil, signatureRefusal(err)
		}
		k, ok := t.keys[ak]
		if !ok { // removed by a reload between the two look-ups
			return nil, unauthenticated("signature", "the request signature is not valid", nil)
		}
		return presented(k.id, "signature"), nil
	}
	if token := bearerToken(r); token != "" {
		id := t.token(token)
		if id == nil {
			return nil, unauthenticated("token", "the token is not valid", nil)
		}
		return presented(id, "token"), nil
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		id := t.certificate(r)
		if id == nil {
			return nil, unauthenticated("certificate", "the client certificate is valid but names no identity", nil)
		}
		return presented(id, "certificate"), nil
	}
	return nil, unauthenticated("missing", "authentication required: send Authorization: Bearer <token> (or X-Auth-Token), sign the request with an access key (SDK-HMAC-SHA256), or present a client certificate", nil)
}

// signatureRefusal answers a signature that did not verify: 401, but for
// what is no fault of the credential: a body over the limit (413), one that
// could not be read (400), and a replay cache full of live signatures
// (503: a limit of this server, and the request may be retried).
func signatureRefusal(err error) *Error {
	e := unauthenticated("signature", "the request signature is not valid", err)
	switch {
	case errors.Is(err, ErrSignatureBodyTooLarge):
		e.Status, e.Code, e.Msg = http.StatusRequestEntityTooLarge, "AB.1005", "the body is too large to verify its signature"
	case errors.Is(err, ErrSignatureBodyRead):
		e.Status, e.Code, e.Msg = http.StatusBadRequest, "AB.1001", "the body could not be read to verify its signature"
	case errors.Is(err, ErrReplayCacheFull):
		e.Status, e.Code, e.Msg = http.StatusServiceUnavailable, "AB.5030", "too many signed requests within the clock skew window to remember them all; retry later"
		e.RetryAfter = time.Second
	}
	return e
}

// presented is a copy of id that says how it was presented.
func presented(id *Identity, via string) *Identity {
	c := *id
	c.Via = via
	return &c
}

func isBearer(authz string) bool {
	scheme, _, _ := strings.Cut(authz, " ")
	return strings.EqualFold(scheme, "Bearer")
}

// bearerToken is the token of Authorization: Bearer, else X-Auth-Token
// (CTS's header).
func bearerToken(r *http.Request) string {
	if authz := r.Header.Get("Authorization"); authz != "" {
		_, token, _ := strings.Cut(authz, " ")
		return strings.TrimSpace(token)
	}
	return strings.TrimSpace(r.Header.Get("X-Auth-Token"))
}

// token finds the identity of a token by its hash. The look-up's timing
// can tell at most how much of the hash of a guess matches a stored hash,
// which brings no guess nearer a token (that would take a SHA-256
// preimage), so it need not be constant-time, and costs the same for ten
// identities as for ten thousand.
func (t *table) token(token string) *Identity {
	return t.tokens[sha256.Sum256([]byte(token))]
}

// certificate maps the verified leaf certificate to an identity.
func (t *table) certificate(r *http.Request) *Identity {
	leaf := r.TLS.VerifiedChains[0][0]
	subject := leaf.Subject.String()
	for _, m := range t.certs {
		if (m.commonName != "" && m.commonName == leaf.Subject.CommonName) || (m.subject != "" && m.subject == subject) {
			return m.id
		}
	}
	return nil
}
