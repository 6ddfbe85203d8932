package console

import (
	"crypto/subtle"
	"net/http"
	"sync"
	"time"
)

// CookieName is the session cookie's name.
const CookieName = "auditbus_console"

// maxSessions bounds the sessions kept; signing in beyond it drops the
// one closest to expiry. Only holders of a valid token can sign in, so the
// bound guards memory against a script, not against strangers.
const maxSessions = 10000

// session is one signed-in browser. The token stays on the server: each
// request is authorized with it afresh.
type session struct {
	id      string
	token   string
	csrf    string
	expires time.Time
}

type sessions struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, m: map[string]*session{}, now: time.Now}
}

// create starts a session for token.
func (ss *sessions) create(token string) *session {
	s := &session{id: randomID(), token: token, csrf: randomID(), expires: ss.now().Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	for id, o := range ss.m {
		if now.After(o.expires) {
			delete(ss.m, id)
		}
	}
	if len(ss.m) >= maxSessions {
		var first *session
		for _, o := range ss.m {
			if first == nil || o.expires.Before(first.expires) {
				first = o
			}
		}
		delete(ss.m, first.id)
	}
	ss.m[s.id] = s
	return s
}

// get is the live session of r's cookie, or nil.
func (ss *sessions) get(r *http.Request) *session {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[ck.Value]
	if s == nil {
		return nil
	}
	if ss.now().After(s.expires) {
		delete(ss.m, s.id)
		return nil
	}
	return s
}

func (ss *sessions) remove(s *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, s.id)
}

// cookie is the session cookie: HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it), Secure over TLS; a
// negative maxAge clears it.
func cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}
}

// csrfHeader carries the CSRF token of htmx requests; forms carry it as
// the field csrfField.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf"
)

// csrfOK reports whether r carries the token want.
func csrfOK(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
