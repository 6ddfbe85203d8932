package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestSignInRefusesDotSegments: a ?next= that leaves the console once its
// dot segments are resolved (plain or percent-encoded, or hidden by a tab
// the browser drops) lands on the overview, not on the API.
func TestSignInRefusesDotSegments(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	for _, next := range []string{"/console/../v1/rules", "/console/%2e%2e/v1/rules", "/console/.%2E/v1/rules",
		"/console/rules/../../v1/rules?x=1", "/console/.\t./v1/rules"} {
		_, h, _ := call(t, client(t), http.MethodPost, r.Console+"sign-in", form, url.Values{"token": {consoletest.AdminToken}, "next": {next}}.Encode())
		if got := h.Get("Location"); got != "/console/" {
			t.Errorf("next %q: redirected to %q, want /console/", next, got)
		}
	}
	_, h, _ := call(t, client(t), http.MethodPost, r.Console+"sign-in", form, url.Values{"token": {consoletest.AdminToken}, "next": {"/console/rules/../tester"}}.Encode())
	if got := h.Get("Location"); got != "/console/tester" { // http.Redirect resolves the dot segments
		t.Errorf("a next that stays inside the console once resolved: redirected to %q", got)
	}
}

// TestSignInMessageFixed: the sign-in page shows only its own messages:
// ?msg= names one of them, and any other text in it is not shown.
func TestSignInMessageFixed(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	const lure = "Security check: paste your admin token again"
	_, _, body := call(t, client(t), http.MethodGet, r.Console+"sign-in?msg="+url.QueryEscape(lure), nil, "")
	if strings.Contains(body, "Security check") || strings.Contains(body, `role="status"`) {
		t.Errorf("the sign-in page shows the URL's own text:\n%s", body)
	}
	c := client(t)
	csrf := signIn(t, c, r, consoletest.AdminToken)
	_, h, _ := call(t, c, http.MethodPost, r.Console+"sign-out", form, url.Values{"csrf": {csrf}}.Encode())
	_, _, body = call(t, c, http.MethodGet, r.URL+h.Get("Location"), nil, "")
	if !strings.Contains(body, "Signed out.") {
		t.Errorf("signed out to %q, whose page does not say so:\n%s", h.Get("Location"), body)
	}
}
