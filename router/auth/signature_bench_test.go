package auth

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchRequests are distinct signed requests (each signature is accepted
// once), cycled through with a fresh replay cache per round.
const benchRequests = 1024

func benchVerify(b *testing.B, method string, body string) {
	date := goldenTime(b)
	reqs := make([]*http.Request, benchRequests)
	for i := range reqs {
		var r *http.Request
		if body == "" {
			r = httptest.NewRequest(method, fmt.Sprintf("http://127.0.0.1:8080/v3/p/traces?trace_type=system&limit=50&n=%d", i), nil)
		} else {
			r = httptest.NewRequest(method, fmt.Sprintf("http://127.0.0.1:8080/v1/events?n=%d", i), strings.NewReader(body))
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Project-Id", "0123456789abcdef0123456789abcdef")
		r.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
		testSign(r, goldenAK, goldenSK, date, []string{"x-project-id", "x-sdk-date"})
		reqs[i] = r
	}
	v := goldenVerifier(b)
	i := 0
	for b.Loop() {
		if i == benchRequests {
			b.StopTimer()
			v.replay, i = NewReplayCache(0), 0
			b.StartTimer()
		}
		if _, err := v.Verify(reqs[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkVerifyGET: a CTS ListTraces-like signed GET with a query.
func BenchmarkVerifyGET(b *testing.B) { benchVerify(b, http.MethodGet, "") }

// BenchmarkVerifyPOST4KiB: a signed POST of a 4 KiB JSON body.
func BenchmarkVerifyPOST4KiB(b *testing.B) {
	benchVerify(b, http.MethodPost, `{"data":"`+strings.Repeat("x", 4096-11)+`"}`)
}

// BenchmarkTokenCheck is the reference the signature is compared with: a
// bearer token hashed with SHA-256 and looked up in a map.
func BenchmarkTokenCheck(b *testing.B) {
	token := "abt_" + strings.Repeat("k", 40)
	tokens := map[[sha256.Size]byte]string{sha256.Sum256([]byte(token)): "ops"}
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/v1/rules", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	for b.Loop() {
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			b.Fatal("no bearer")
		}
		if _, ok := tokens[sha256.Sum256([]byte(tok))]; !ok {
			b.Fatal("unknown token")
		}
	}
}
