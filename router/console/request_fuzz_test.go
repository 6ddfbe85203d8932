package console

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeNext: whatever ?next= holds, sign-in redirects to a path of the
// console on this host, never to another site (an open redirect).
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/console/rules", "//evil.example/", `/console/\evil`, "https://evil.example/console/",
		"/console//evil.example", "/console/%2f%2fevil", "/v1/rules", "", "/console/../x", "\t//evil"} {
		f.Add(s)
	}
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
	})
}
