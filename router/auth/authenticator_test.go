package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAuthFile writes an auth file granting each token its actions.
func writeAuthFile(t *testing.T, path string, identities ...string) {
	writeAuthFileTB(t, path, identities...)
}

func writeAuthFileTB(t testing.TB, path string, identities ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("identities:\n"+strings.Join(identities, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func tokenIdentity(name, token, actions, buses string) string {
	s := "  - name: " + name + "\n    tokens: [\"" + HashToken(token) + "\"]\n    actions: " + actions + "\n"
	if buses != "" {
		s += "    buses: " + buses + "\n"
	}
	return s
}

func request(header, value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/rules", nil)
	r.RemoteAddr = "192.0.2.7:40000"
	if header != "" {
		r.Header.Set(header, value)
	}
	return r
}

func TestAuthorize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "auth.yaml")
	writeAuthFile(t, p, tokenIdentity("reader", "tok-reader", "[rules:read]", "[prod]"),
		tokenIdentity("admin", "tok-admin", `["*"]`, ""))
	a, err := New(p, WithFailureLimit(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, header, value, action string
		status                      int
		identity, via               string
	}{
		{"bearer", "Authorization", "Bearer tok-reader", ActionRulesRead, 0, "reader", "token"},
		{"bearer lowercase scheme", "Authorization", "bearer tok-reader", ActionRulesRead, 0, "reader", "token"},
		{"x-auth-token", "X-Auth-Token", "tok-admin", ActionDLQRedrive, 0, "admin", "token"},
		{"missing", "", "", ActionRulesRead, 401, "", ""},
		{"wrong token", "Authorization", "Bearer tok-nobody", ActionRulesRead, 401, "", ""},
		{"token with a suffix", "Authorization", "Bearer tok-readerx", ActionRulesRead, 401, "", ""},
		{"basic", "Authorization", "Basic dXNlcjpwYXNz", ActionRulesRead, 401, "", ""},
		{"lacks the action", "Authorization", "Bearer tok-reader", ActionRulesWrite, 403, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := a.Authorize(request(tc.header, tc.value), tc.action)
			var e *Error
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.status == 0:
				if id.Name != tc.identity || id.Via != tc.via {
					t.Errorf("identity %q via %q, want %q via %q", id.Name, id.Via, tc.identity, tc.via)
				}
			case !errors.As(err, &e) || e.Status != tc.status:
				t.Fatalf("error %v, want status %d", err, tc.status)
			case tc.status == 403 && !strings.Contains(e.Msg, `"reader" may not `+tc.action):
				t.Errorf("403 message %q does not name the identity and the action", e.Msg)
			}
		})
	}
	id, _ := a.Authorize(request("Authorization", "Bearer tok-reader"), ActionRulesRead)
	if !id.AllowsBus("prod") || id.AllowsBus("default") {
		t.Errorf("reader limited to prod: AllowsBus(prod)=%v AllowsBus(default)=%v", id.AllowsBus("prod"), id.AllowsBus("default"))
	}
}

// TestFailuresThrottled: an address that keeps failing has its failures
// answered 429 for a while, while a valid token from it still gets
// through (one bad client behind a NAT locks nobody out), and other
// addresses are answered as usual.
func TestFailuresThrottled(t *testing.T) {
	p := filepath.Join(t.TempDir(), "auth.yaml")
	writeAuthFile(t, p, tokenIdentity("admin", "tok-admin", `["*"]`, ""))
	a, err := New(p, WithFailureLimit(3, 0.001))
	if err != nil {
		t.Fatal(err)
	}
	status := func(r *http.Request) int {
		_, err := a.Authorize(r, ActionRulesRead)
		if err == nil {
			return 200
		}
		e := err.(*Error)
		if e.Status == 429 && e.RetryAfter <= 0 {
			t.Errorf("429 without a Retry-After")
		}
		return e.Status
	}
	for i := range 3 {
		if got := status(request("Authorization", "Bearer guess")); got != 401 {
			t.Fatalf("failure %d: %d, want 401", i, got)
		}
	}
	if got := status(request("Authorization", "Bearer guess")); got != 429 {
		t.Errorf("a fourth failure: %d, want 429", got)
	}
	if got := status(request("Authorization", "Bearer tok-admin")); got != 200 {
		t.Errorf("a valid token from the throttled address: %d, want 200", got)
	}
	other := request("Authorization", "Bearer guess")
	other.RemoteAddr = "192.0.2.8:1"
	if got := status(other); got != 401 {
		t.Errorf("a failure from another address: %d, want 401", got)
	}
}

// TestReload: a changed file takes effect; a broken one keeps the
// identities already loaded.
func TestReload(t *testing.T) {
	p := filepath.Join(t.TempDir(), "auth.yaml")
	writeAuthFile(t, p, tokenIdentity("old", "tok-old", `["*"]`, ""))
	a, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(token string) bool {
		_, err := a.Authorize(request("Authorization", "Bearer "+token), ActionRulesRead)
		return err == nil
	}
	writeAuthFile(t, p, tokenIdentity("new", "tok-new", `["*"]`, ""))
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if allowed("tok-old") || !allowed("tok-new") {
		t.Fatalf("after reload: old allowed %v, new allowed %v", allowed("tok-old"), allowed("tok-new"))
	}
	os.WriteFile(p, []byte("identities: [\n"), 0o600)
	if err := a.Reload(); err == nil {
		t.Fatal("a broken file reloaded without error")
	}
	if !allowed("tok-new") {
		t.Error("a broken file removed the identities in force")
	}
	os.Remove(p)
	if err := a.Reload(); err == nil || !allowed("tok-new") {
		t.Errorf("a removed file: reload error %v, identities kept %v", err, allowed("tok-new"))
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:5":              "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:5": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:9": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.1]:5":     "192.0.2.1",
		"@":                        "@",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = addr
		if got := ClientKey(r); got != want {
			t.Errorf("ClientKey(%s) = %s, want %s", addr, got, want)
		}
	}
}
