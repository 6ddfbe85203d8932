package console

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/auditbus/auditbus/router/auth"
)

// request is one request to a page, authorized: its identity (nil with
// auth off) is in r's context, as the API's functions expect.
type request struct {
	c    *Console
	w    http.ResponseWriter
	r    *http.Request
	id   *auth.Identity
	csrf string
}

// register serves p, checking its action (and, for a POST, the origin and
// the CSRF token) before its handler runs.
func (c *Console) register(p page) {
	c.mux.HandleFunc(p.method+" "+Prefix+p.path, func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rq := c.begin(rec, r, p.action)
		if rq == nil {
			return
		}
		p.handle(c, rq)
		if p.method != http.MethodGet {
			c.logChange(rq, rec.status)
		}
	})
}

// logChange logs every change made through the console, as the API logs
// its changes: who changed the rules is part of the audit trail.
func (c *Console) logChange(rq *request, status int) {
	c.opts.Log.Info().Str("identity", identityOf(rq.id)).Str("method", rq.r.Method).Str("path", rq.r.URL.Path).
		Int("status", status).Str("client", rq.r.RemoteAddr).Msg("console change")
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController flush through the recorder, for
// pages that stream (server-sent events).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// signedIn is the action of what any signed-in identity may use.
const signedIn = ""

// begin authorizes r for action, answering the refusal itself (nil).
func (c *Console) begin(w http.ResponseWriter, r *http.Request, action string) *request {
	rq := &request{c: c, w: w, r: r, csrf: c.anonCSRF}
	if c.auth != nil {
		sess := c.sessions.get(r)
		if sess == nil {
			c.toSignIn(w, r, "")
			return nil
		}
		rq.csrf = sess.csrf
		id, err := c.auth.Authorize(withToken(r, sess.token), cmp.Or(action, auth.ActionMetricsRead))
		rq.id = id
		var ae *auth.Error
		switch {
		case action == signedIn && errors.As(err, &ae) && ae.Status == http.StatusForbidden:
			// A valid token: the page needs no action, the one asked was
			// only there to make Authorize check the token.
		case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
			rq.r = r.WithContext(auth.NewContext(r.Context(), id))
			rq.forbidden(action, ae.Msg)
			return nil
		case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
			c.sessions.remove(sess)
			http.SetCookie(w, cookie(r, "", -1))
			c.toSignIn(w, r, msgExpired)
			return nil
		case err != nil:
			rq.fail(http.StatusServiceUnavailable, err.Error())
			return nil
		}
		rq.r = r.WithContext(auth.NewContext(r.Context(), id))
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !rq.changeAllowed() {
		return nil
	}
	return rq
}

// changeAllowed checks a state change: it must come from the console's
// own origin and carry the CSRF token of the page it was made on.
func (rq *request) changeAllowed() bool {
	if err := rq.c.cross.Check(rq.r); err != nil {
		rq.fail(http.StatusForbidden, "Refused: this change came from another site ("+err.Error()+"). Make changes from the console's own pages.")
		return false
	}
	if !csrfOK(rq.r, rq.csrf) {
		rq.fail(http.StatusForbidden, "Refused: the form's CSRF token is missing or stale (the session may have changed). Reload the page and try again.")
		return false
	}
	return true
}

// withToken is r as the API sees a request with the session's token.
func withToken(r *http.Request, token string) *http.Request {
	c := r.Clone(r.Context())
	c.Header = http.Header{"Authorization": {"Bearer " + token}}
	return c
}

// toSignIn sends the browser to the sign-in page, to come back to r's
// page after (htmx requests follow HX-Redirect); msg is a key of
// signInMessages, or "" for none.
func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request, msg string) {
	q := url.Values{}
	if r.Method == http.MethodGet && r.URL.Path != Prefix {
		q.Set("next", r.URL.RequestURI())
	}
	if msg != "" {
		q.Set("msg", msg)
	}
	target := Prefix + "sign-in"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext is next when it is a console page, else the overview: the
// sign-in page never redirects off the console. The path is checked as a
// browser resolves it: percent-decoded (a browser takes %2e as a dot in
// "..") and with its dot segments removed, so /console/../v1/rules is
// refused; so are backslashes and control characters, which browsers
// read as slashes or drop.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, unsafeInPath) {
		return Prefix
	}
	p, _, _ := strings.Cut(next, "?")
	p, _, _ = strings.Cut(p, "#")
	decoded, err := url.PathUnescape(p)
	if err != nil || strings.ContainsFunc(decoded, unsafeInPath) {
		return Prefix
	}
	if clean := path.Clean(decoded); clean != strings.TrimSuffix(Prefix, "/") && !strings.HasPrefix(clean, Prefix) {
		return Prefix
	}
	return next
}

func unsafeInPath(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }

// allows reports whether the identity may perform action (always, with
// auth off).
func (rq *request) allows(action string) bool { return rq.id == nil || rq.id.Allows(action) }

// forbidden answers 403 with a page naming the missing action.
func (rq *request) forbidden(action, msg string) {
	rq.render(http.StatusForbidden, "forbidden.html", "Not allowed", struct{ Action, Message string }{action, msg})
}

// fail answers status with a page saying msg.
func (rq *request) fail(status int, msg string) {
	rq.render(status, "error.html", http.StatusText(status), msg)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	if rq := c.begin(w, r, signedIn); rq != nil {
		rq.fail(http.StatusNotFound, "There is no console page at "+r.URL.Path+".")
	}
}
