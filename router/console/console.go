package console

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/api"
)

// Prefix is where the console is served.
const Prefix = "/console/"

// DefaultSessionTTL is how long a session lasts after signing in.
const DefaultSessionTTL = 8 * time.Hour

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the console.
type Options struct {
	// JetStream reads recent events for the rule tester; nil: none to pick.
	JetStream jetstream.JetStream
	// SessionTTL is a session's lifetime; default DefaultSessionTTL.
	SessionTTL time.Duration
	Log        zerolog.Logger
}

// Console is the web console: an http.Handler for paths under Prefix.
type Console struct {
	api      *api.Server
	auth     api.Authorizer // nil: auth off
	opts     Options
	mux      *http.ServeMux
	sessions *sessions
	// anonCSRF is the CSRF token of every form with auth off, where there
	// is no session to hold one.
	anonCSRF string
	cross    *http.CrossOriginProtection
	rate     rateSampler
	routes   []page // pages, for the nav
}

// New returns the console of a, which it reads and changes through.
func New(a *api.Server, opts Options) *Console {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	c := &Console{api: a, auth: a.Authorizer(), opts: opts, mux: http.NewServeMux(),
		sessions: newSessions(opts.SessionTTL), anonCSRF: randomID(), cross: http.NewCrossOriginProtection()}
	static, _ := fs.Sub(staticFS, "static") // fails only for an invalid name
	c.mux.Handle("GET "+Prefix+"static/", staticFiles(static))
	c.registerSignIn()
	c.routes = pages
	for _, p := range pages {
		c.register(p)
	}
	c.mux.HandleFunc(Prefix, c.notFound)
	return c
}

// ServeHTTP serves the console with its security headers: no framing, no
// script or style but its own, no referrer leaving the site.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

// staticFiles serves the embedded assets, a script compressed when the
// client takes gzip and the file's .gz is embedded beside it (htmx's own,
// from its npm package: a third of the bytes).
func staticFiles(files fs.FS) http.Handler {
	plain := http.StripPrefix(Prefix+"static/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Static names carry their version (htmx-2.0.11.min.js), or change
		// with the binary; an hour is short enough for the CSS.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Add("Vary", "Accept-Encoding")
		name := strings.TrimPrefix(r.URL.Path, Prefix+"static/")
		if strings.HasSuffix(name, ".js") && acceptsGzip(r) {
			if gz, err := fs.ReadFile(files, name+".gz"); err == nil {
				w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(gz)
				return
			}
		}
		plain.ServeHTTP(w, r)
	})
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// randomID is 256 random bits, URL-safe.
func randomID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
