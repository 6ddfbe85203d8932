package auth

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzParseSignatureAuthorization: the parser never panics, and what it
// accepts formats back to a header it parses the same way.
func FuzzParseSignatureAuthorization(f *testing.F) {
	for _, name := range []string{"get-query", "post-json", "post-host-signed"} {
		f.Add(loadGolden(f, name).Header.Get("Authorization"))
	}
	for _, s := range []string{"", "SDK-HMAC-SHA256", "SDK-HMAC-SHA256 ", "SDK-HMAC-SHA256 Access=a, Access=b",
		"sdk-hmac-sha256 Signature=00, SignedHeaders=;, Access=,", "SDK-HMAC-SHA256 Access=a,SignedHeaders=x-sdk-date,Signature=" + strings.Repeat("Zz", 32)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		a, err := parseSignatureAuthorization(header)
		if err != nil {
			return
		}
		if a.access == "" || len(a.signedHeaders) == 0 || slices.Contains(a.signedHeaders, "") {
			t.Fatalf("%q parsed to %+v", header, a)
		}
		again := fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%x", SignatureAlgorithm, a.access, strings.Join(a.signedHeaders, ";"), a.signature)
		b, err := parseSignatureAuthorization(again)
		if err != nil || b.access != a.access || !slices.Equal(b.signedHeaders, a.signedHeaders) || b.signature != a.signature {
			t.Fatalf("%q parsed to %+v; formatted back %q parsed to %+v, %v", header, a, again, b, err)
		}
	})
}
