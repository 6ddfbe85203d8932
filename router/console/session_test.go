package console

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestCookieSecureOverTLS: the session cookie is Secure when the console
// is served over TLS, so it never travels in the clear.
func TestCookieSecureOverTLS(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "https://127.0.0.1/console/sign-in", nil)
	r.TLS = &tls.ConnectionState{}
	if ck := cookie(r, "id", 60); !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie over TLS %+v", ck)
	}
}

// TestSessionExpiry: a session ends at its expiry, and is dropped then.
func TestSessionExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ss := newSessions(time.Hour)
	ss.now = func() time.Time { return now }
	s := ss.create("abt_token")
	r := httptest.NewRequest(http.MethodGet, "/console/", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: s.id})
	if ss.get(r) != s {
		t.Fatal("a fresh session is not found")
	}
	now = now.Add(time.Hour + time.Second)
	if ss.get(r) != nil {
		t.Error("an expired session still opens pages")
	}
	if len(ss.m) != 0 {
		t.Error("the expired session is kept")
	}
}

// TestSessionBound: beyond maxSessions, the session closest to expiry
// makes room.
func TestSessionBound(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ss := newSessions(time.Hour)
	ss.now = func() time.Time { now = now.Add(time.Millisecond); return now }
	first := ss.create("t")
	for range maxSessions {
		ss.create("t")
	}
	if len(ss.m) != maxSessions || ss.m[first.id] != nil {
		t.Errorf("%d sessions, first kept %t", len(ss.m), ss.m[first.id] != nil)
	}
}

// TestRecorderFlushes: a page that streams can flush through the status
// recorder every page is served through.
func TestRecorderFlushes(t *testing.T) {
	w := httptest.NewRecorder()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rec.Write([]byte("data: x\n\n"))
	if err := http.NewResponseController(rec).Flush(); err != nil || !w.Flushed {
		t.Errorf("flush through the recorder: %v, flushed %t", err, w.Flushed)
	}
}
