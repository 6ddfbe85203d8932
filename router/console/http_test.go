package console_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/console"
	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestSignInCookie: a good token gets a session cookie no script can
// read and no other site can send; a wrong one gets 401 and no cookie.
func TestSignInCookie(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	c := client(t)
	status, h, body := call(t, c, http.MethodPost, r.Console+"sign-in", form, url.Values{"token": {"abt_wrong"}}.Encode())
	if status != http.StatusUnauthorized || h.Get("Set-Cookie") != "" || !strings.Contains(body, "That token is not valid.") {
		t.Errorf("wrong token: %d, Set-Cookie %q, body has the refusal: %t", status, h.Get("Set-Cookie"), strings.Contains(body, "not valid"))
	}
	status, h, _ = call(t, c, http.MethodPost, r.Console+"sign-in", form, url.Values{"token": {consoletest.AdminToken}, "next": {"/console/rules"}}.Encode())
	if status != http.StatusSeeOther || h.Get("Location") != "/console/rules" {
		t.Fatalf("sign in: %d to %q", status, h.Get("Location"))
	}
	ck, err := http.ParseSetCookie(h.Get("Set-Cookie"))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Name != console.CookieName || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" || ck.Secure || len(ck.Value) < 40 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/, not Secure over plain HTTP, a long random id", ck)
	}
	if strings.Contains(ck.Value, consoletest.AdminToken) {
		t.Error("the cookie carries the token")
	}
}

// TestSignInLandsOnAllowedPage: an identity without metrics:read lands
// on the first page it may open, not on the overview's 403.
func TestSignInLandsOnAllowedPage(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	_, h, _ := call(t, client(t), http.MethodPost, r.Console+"sign-in", form, url.Values{"token": {consoletest.TesterToken}, "next": {"/console/"}}.Encode())
	if got := h.Get("Location"); got != "/console/rules" {
		t.Errorf("landed on %q, want /console/rules", got)
	}
}

// TestSignInRedirectsOnlyInside: ?next= never leads off the console.
func TestSignInRedirectsOnlyInside(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	for _, next := range []string{"https://evil.example/", "//evil.example/console/", "/v1/rules", `/console/\evil`} {
		_, h, _ := call(t, client(t), http.MethodPost, r.Console+"sign-in", form, url.Values{"token": {consoletest.AdminToken}, "next": {next}}.Encode())
		if got := h.Get("Location"); got != "/console/" {
			t.Errorf("next %q: redirected to %q, want /console/", next, got)
		}
	}
}

// TestUnsignedRequests: without a session, pages send the browser to the
// sign-in page (htmx requests get 401 and HX-Redirect), and changes are
// refused.
func TestUnsignedRequests(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{Rules: []string{deleteRule}})
	tests := []struct {
		name, method, path string
		header             http.Header
		status             int
		location           string
	}{
		{"page", http.MethodGet, "rules/default/tke-cluster-deleted", nil, http.StatusSeeOther, "/console/sign-in?next=%2Fconsole%2Frules%2Fdefault%2Ftke-cluster-deleted"},
		{"overview", http.MethodGet, "", nil, http.StatusSeeOther, "/console/sign-in"},
		{"htmx poll", http.MethodGet, "", http.Header{"Hx-Request": {"true"}}, http.StatusUnauthorized, ""},
		{"change", http.MethodPost, "tester", form, http.StatusSeeOther, "/console/sign-in"},
		{"unknown page", http.MethodGet, "nowhere", nil, http.StatusSeeOther, "/console/sign-in?next=%2Fconsole%2Fnowhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, _ := call(t, client(t), tt.method, r.Console+tt.path, tt.header, "")
			if status != tt.status || h.Get("Location") != tt.location {
				t.Errorf("%d to %q, want %d to %q", status, h.Get("Location"), tt.status, tt.location)
			}
			if tt.header.Get("Hx-Request") != "" && h.Get("HX-Redirect") != "/console/sign-in" {
				t.Errorf("HX-Redirect %q", h.Get("HX-Redirect"))
			}
		})
	}
}

// TestForbiddenPages: a signed-in identity without a page's action gets
// a 403 page naming it; one limited to buses sees only its buses.
func TestForbiddenPages(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{Rules: []string{deleteRule, prodRule}})
	putRule(t, r, "console-edited", apiRule)
	viewer := client(t)
	csrf := signIn(t, viewer, r, consoletest.ViewerToken)
	prod := client(t)
	prodCSRF := signIn(t, prod, r, consoletest.ProdToken)
	tests := []struct {
		name   string
		c      *http.Client
		method string
		path   string
		body   string
		status int
		want   string
	}{
		{"tester needs rules:test", viewer, http.MethodGet, "tester", "", http.StatusForbidden, "This page needs the action <code>rules:test</code>"},
		{"edit needs rules:write", viewer, http.MethodGet, "rules/default/console-edited/edit", "", http.StatusForbidden, "<code>rules:write</code>"},
		{"save needs rules:write", viewer, http.MethodPost, "rules/default/console-edited/edit", url.Values{"csrf": {csrf}, "document": {apiRule}}.Encode(), http.StatusForbidden, "<code>rules:write</code>"},
		{"enable needs targets:write", viewer, http.MethodPost, "rules/default/tke-cluster-deleted/targets/out/enable", url.Values{"csrf": {csrf}}.Encode(), http.StatusForbidden, "<code>targets:write</code>"},
		{"prod may not enable on default", prod, http.MethodPost, "rules/default/tke-cluster-deleted/targets/out/enable", url.Values{"csrf": {prodCSRF}}.Encode(), http.StatusForbidden, `may not use bus &#34;default&#34;`},
		{"viewer reads rules", viewer, http.MethodGet, "rules", "", http.StatusOK, "tke-cluster-deleted"},
		{"prod sees its bus", prod, http.MethodGet, "rules", "", http.StatusOK, "prod-everything"},
		{"prod may not open default", prod, http.MethodGet, "rules/default/tke-cluster-deleted", "", http.StatusForbidden, `may not use bus &#34;default&#34;`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := call(t, tt.c, tt.method, r.Console+tt.path, form, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%d, want %d with %q in:\n%s", status, tt.status, tt.want, body)
			}
		})
	}
	_, _, body := call(t, prod, http.MethodGet, r.Console+"rules", nil, "")
	if strings.Contains(body, "tke-cluster-deleted") || strings.Contains(body, "console-edited") {
		t.Error("an identity limited to bus prod sees rules of bus default")
	}
	_, _, body = call(t, viewer, http.MethodGet, r.Console, nil, "")
	if strings.Contains(body, `href="/console/tester"`) || !strings.Contains(body, "needs the action <code>dlq:read</code>") {
		t.Errorf("the viewer's overview links the tester it may not use, or does not say the DLQ needs dlq:read:\n%s", body)
	}
}

// TestCSRF: a change without the session's CSRF token, with another
// session's, or from another origin, is refused with 403 and stores
// nothing.
func TestCSRF(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	putRule(t, r, "console-edited", apiRule)
	c := client(t)
	csrf := signIn(t, c, r, consoletest.AdminToken)
	other := signIn(t, client(t), r, consoletest.AdminToken)
	changed := strings.Replace(apiRule, "cloudaudit.tencentcloudapi.com", "changed.example", 1)
	edit := r.Console + "rules/default/console-edited/edit"
	tests := []struct {
		name   string
		header http.Header
		fields url.Values
		want   string
	}{
		{"no token", form, url.Values{}, "CSRF token is missing or stale"},
		{"another session's", form, url.Values{"csrf": {other}}, "CSRF token is missing or stale"},
		{"wrong header", http.Header{"Content-Type": form["Content-Type"], "X-Csrf-Token": {"forged"}}, url.Values{}, "CSRF token is missing or stale"},
		{"cross origin", http.Header{"Content-Type": form["Content-Type"], "Origin": {"https://evil.example"}}, url.Values{"csrf": {csrf}}, "came from another site"},
		{"cross site fetch", http.Header{"Content-Type": form["Content-Type"], "Sec-Fetch-Site": {"cross-site"}}, url.Values{"csrf": {csrf}}, "came from another site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fields.Set("document", changed)
			status, _, body := call(t, c, http.MethodPost, edit, tt.header, tt.fields.Encode())
			if status != http.StatusForbidden || !strings.Contains(body, tt.want) {
				t.Errorf("%d, want 403 with %q:\n%s", status, tt.want, body)
			}
		})
	}
	_, _, body := call(t, c, http.MethodGet, edit, nil, "")
	if strings.Contains(body, "changed.example") {
		t.Fatal("a refused change was stored")
	}
	status, _, _ := call(t, c, http.MethodPost, edit, form, url.Values{"csrf": {csrf}, "document": {changed}, "revision": {"0"}}.Encode())
	if status != http.StatusSeeOther {
		t.Fatalf("the same change with the token: %d", status)
	}
	_, _, body = call(t, c, http.MethodGet, edit, nil, "")
	if !strings.Contains(body, "changed.example") {
		t.Error("the accepted change is not stored")
	}
}

// TestSignOut ends the session: its cookie no longer opens pages.
func TestSignOut(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	c := client(t)
	csrf := signIn(t, c, r, consoletest.AdminToken)
	if status, _, _ := call(t, c, http.MethodPost, r.Console+"sign-out", form, ""); status != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d, want 403", status)
	}
	status, h, _ := call(t, c, http.MethodPost, r.Console+"sign-out", form, url.Values{"csrf": {csrf}}.Encode())
	if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/sign-in") {
		t.Fatalf("sign out: %d to %q", status, h.Get("Location"))
	}
	if status, h, _ := call(t, c, http.MethodGet, r.Console+"rules", nil, ""); status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/sign-in") {
		t.Errorf("after sign-out: %d to %q, want the sign-in page", status, h.Get("Location"))
	}
}

// TestAuthOff: without auth the console needs no sign-in and says so.
func TestAuthOff(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{AuthOff: true, Rules: []string{deleteRule}})
	status, _, body := call(t, client(t), http.MethodGet, r.Console+"rules", nil, "")
	if status != http.StatusOK || !strings.Contains(body, "Auth is off") || !strings.Contains(body, "tke-cluster-deleted") {
		t.Errorf("%d:\n%s", status, body)
	}
	if status, h, _ := call(t, client(t), http.MethodGet, r.Console+"sign-in", nil, ""); status != http.StatusSeeOther || h.Get("Location") != "/console/" {
		t.Errorf("sign-in with auth off: %d to %q, want the overview", status, h.Get("Location"))
	}
	if status, _, body := call(t, client(t), http.MethodPost, r.Console+"tester", form, "rule=default%2Ftke-cluster-deleted"); status != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Errorf("a change with auth off still needs the CSRF token: %d", status)
	}
}

// TestSecurityHeaders: pages may not be framed and run no script but the
// console's own.
func TestSecurityHeaders(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	_, h, _ := call(t, client(t), http.MethodGet, r.Console+"sign-in", nil, "")
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
	}
}

// TestStaticGzip: htmx goes compressed to a client that takes gzip, and
// as it is to one that does not; both are the same script.
func TestStaticGzip(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	u := r.Console + "static/htmx-2.0.11.min.js"
	_, plainH, plain := call(t, client(t), http.MethodGet, u, http.Header{"Accept-Encoding": {"identity"}}, "")
	_, gzH, packed := call(t, client(t), http.MethodGet, u, http.Header{"Accept-Encoding": {"br, gzip"}}, "")
	if plainH.Get("Content-Encoding") != "" || gzH.Get("Content-Encoding") != "gzip" || !strings.Contains(gzH.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("encodings %q and %q, Vary %q", plainH.Get("Content-Encoding"), gzH.Get("Content-Encoding"), gzH.Get("Vary"))
	}
	zr, err := gzip.NewReader(strings.NewReader(packed))
	if err != nil {
		t.Fatal(err)
	}
	unpacked, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(unpacked) != plain || !strings.Contains(plain, "htmx") || len(packed) >= len(plain)/2 {
		t.Errorf("gzipped %d B unpacks to %d B, plain %d B: want the same script, less than half the size", len(packed), len(unpacked), len(plain))
	}
	if !strings.HasPrefix(gzH.Get("Content-Type"), "text/javascript") {
		t.Errorf("Content-Type %q", gzH.Get("Content-Type"))
	}
}

// TestEditMaskedSecret: the editor never shows a target's secret, and a
// document still holding the mask is refused, so saving never replaces a
// secret by its mask.
func TestEditMaskedSecret(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	putRule(t, r, "with-secret", `name: with-secret
targets:
  - id: hook
    webhook: {url: "http://127.0.0.1:9/hook", headers: {X-Api-Key: s3cret-value}}
`)
	c := client(t)
	csrf := signIn(t, c, r, consoletest.AdminToken)
	edit := r.Console + "rules/default/with-secret/edit"
	_, _, page := call(t, c, http.MethodGet, edit, nil, "")
	if strings.Contains(page, "s3cret-value") || !strings.Contains(page, "***") {
		t.Fatalf("the editor shows the secret, or no mask:\n%s", page)
	}
	status, _, body := call(t, c, http.MethodPost, edit, form, url.Values{"csrf": {csrf}, "document": {"name: with-secret\ntargets:\n  - id: hook\n    webhook: {url: \"http://127.0.0.1:9/other\", headers: {X-Api-Key: \"***\"}}\n"}}.Encode())
	if status != http.StatusBadRequest || !strings.Contains(body, "still holds masked secrets") {
		t.Fatalf("saving the mask: %d\n%s", status, body)
	}
	_, _, page = call(t, c, http.MethodGet, edit, nil, "")
	if strings.Contains(page, "/other") || !strings.Contains(page, "127.0.0.1:9/hook") {
		t.Error("the refused document was stored")
	}
}
