package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/auditbus/auditbus/router/auth"
)

// signInData is the sign-in page's.
type signInData struct {
	Next, Message, Error string
}

// Keys of signInMessages, what ?msg= of the sign-in page may hold.
const (
	msgExpired   = "expired"
	msgSignedOut = "signed-out"
)

// signInMessages are the only texts the sign-in page shows from its URL:
// ?msg= names one, so a link cannot put words of its own on the page
// (a phishing page would ask for the token there). Other keys show none.
var signInMessages = map[string]string{
	msgExpired:   "Your token is no longer valid: sign in again.",
	msgSignedOut: "Signed out.",
}

func (c *Console) registerSignIn() {
	c.mux.HandleFunc("GET "+Prefix+"sign-in", c.signInPage)
	c.mux.HandleFunc("POST "+Prefix+"sign-in", c.signIn)
	c.mux.HandleFunc("POST "+Prefix+"sign-out", c.signOut)
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if c.auth == nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	rq := &request{c: c, w: w, r: r}
	q := r.URL.Query()
	rq.render(http.StatusOK, "signin.html", "Sign in", signInData{Next: safeNext(q.Get("next")), Message: signInMessages[q.Get("msg")]})
}

// signIn checks the pasted token as the API checks a Bearer token, and
// starts a session for it. A valid token lacking actions still signs in:
// each page then says which action is missing.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	rq := &request{c: c, w: w, r: r}
	if c.auth == nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	if err := c.cross.Check(r); err != nil {
		rq.fail(http.StatusForbidden, "Refused: this sign-in came from another site ("+err.Error()+").")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	if token == "" {
		rq.render(http.StatusBadRequest, "signin.html", "Sign in", signInData{Next: next, Error: "Paste a token to sign in."})
		return
	}
	id, err := c.auth.Authorize(withToken(r, token), auth.ActionMetricsRead)
	var ae *auth.Error
	if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusForbidden) {
		status, msg := http.StatusUnauthorized, "That token is not valid."
		if ae != nil && ae.Status == http.StatusTooManyRequests {
			status, msg = ae.Status, ae.Msg
		}
		rq.render(status, "signin.html", "Sign in", signInData{Next: next, Error: msg})
		return
	}
	sess := c.sessions.create(token)
	http.SetCookie(w, cookie(r, sess.id, int(c.opts.SessionTTL.Seconds())))
	c.opts.Log.Info().Str("identity", id.Name).Str("client", r.RemoteAddr).Msg("console sign-in")
	if links := c.nav(id, ""); next == Prefix && len(links) > 0 {
		next = links[0].Href // the first page the identity may open
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the session (a change: origin and CSRF token checked).
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if c.auth == nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	sess := c.sessions.get(r)
	if sess == nil {
		c.toSignIn(w, r, "")
		return
	}
	rq := &request{c: c, w: w, r: r, csrf: sess.csrf}
	if !rq.changeAllowed() {
		return
	}
	c.sessions.remove(sess)
	http.SetCookie(w, cookie(r, "", -1))
	c.toSignIn(w, r, msgSignedOut)
}
