package sinks

import (
	"net/url"
	"testing"
)

// FuzzPercentEncode: what percentEncode makes is printable ASCII without
// space or '"', and a single round of percent-decoding gives the value
// back.
func FuzzPercentEncode(f *testing.F) {
	for _, s := range []string{"", "plain", `100% "q" a b`, "naïve 日本 😀", "%41", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := percentEncode(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c <= ' ' || c > '~' || c == '"' {
				t.Fatalf("percentEncode(%q) = %q: byte %d (%q) left as it is", s, enc, i, c)
			}
		}
		if dec, err := url.PathUnescape(enc); err != nil || dec != s {
			t.Fatalf("percentEncode(%q) = %q, decodes to %q (%v)", s, enc, dec, err)
		}
	})
}
