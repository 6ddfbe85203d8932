package console

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzSafeNext: whatever ?next= holds, sign-in redirects to a path of the
// console on this host, never to another site (an open redirect), and
// never to a path outside the console once a browser has resolved it
// (percent-decoded, dot segments removed: /console/../v1/rules is /v1/rules).
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/console/rules", "//evil.example/", `/console/\evil`, "https://evil.example/console/",
		"/console//evil.example", "/console/%2f%2fevil", "/v1/rules", "", "/console/../x", "\t//evil",
		"/console/../v1/rules", "/console/%2e%2e/v1/rules", "/console/.%2E/v1", "/console/.\t./v1", "/console/tester?seq=1&rule=a/../b"} {
		f.Add(s)
	}
	base, _ := url.Parse("http://127.0.0.1:8080/console/sign-in")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, Prefix) {
			t.Fatalf("safeNext(%q) = %q: not a console path", next, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			return // the browser resolves nothing it cannot parse to another host either
		}
		if u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q: names host %q", next, got, u.Host)
		}
		if clean := path.Clean(u.Path); clean != "/console" && !strings.HasPrefix(clean, Prefix) {
			t.Fatalf("safeNext(%q) = %q: cleaned, the path is %q, outside the console", next, got, clean)
		}
		if r := base.ResolveReference(u); r.Host != base.Host || !strings.HasPrefix(r.Path+"/", Prefix) {
			t.Fatalf("safeNext(%q) = %q: resolves to %s", next, got, r)
		}
	})
}
