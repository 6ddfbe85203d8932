package auth

import (
	"path/filepath"
	"testing"
)

// BenchmarkAuthorizeToken is the whole check a token request pays:
// throttle look-up, hash, constant-time scan of 100 identities' tokens,
// the action.
func BenchmarkAuthorizeToken(b *testing.B) {
	p := filepath.Join(b.TempDir(), "auth.yaml")
	var ids []string
	for i := range 100 {
		ids = append(ids, tokenIdentity("id-"+string(rune('a'+i%26))+string(rune('a'+i/26)), "tok-"+string(rune(i)), "[rules:read]", ""))
	}
	ids = append(ids, tokenIdentity("reader", "tok-reader", "[rules:read]", ""))
	writeAuthFileTB(b, p, ids...)
	a, err := New(p)
	if err != nil {
		b.Fatal(err)
	}
	r := request("Authorization", "Bearer tok-reader")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(r, ActionRulesRead); err != nil {
			b.Fatal(err)
		}
	}
}
