package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestVerifyReplay: a signature is accepted once per replay cache; a cache
// shared by two verifiers (a rebuilt one, say) still refuses it.
func TestVerifyReplay(t *testing.T) {
	shared := NewReplayCache(0)
	first, rebuilt := goldenVerifier(t, WithReplayCache(shared)), goldenVerifier(t, WithReplayCache(shared))
	if _, err := first.Verify(loadGolden(t, "post-json")); err != nil {
		t.Fatalf("first Verify: %v", err)
	}
	for name, v := range map[string]*SignatureVerifier{"same verifier": first, "verifier sharing the cache": rebuilt} {
		if _, err := v.Verify(loadGolden(t, "post-json")); !errors.Is(err, ErrReplayed) {
			t.Errorf("%s: second Verify error %v, want %v", name, err, ErrReplayed)
		}
	}
	if _, err := first.Verify(loadGolden(t, "get-query")); err != nil {
		t.Errorf("another signature refused: %v", err)
	}
	if got := shared.Len(); got != 2 {
		t.Errorf("replay cache holds %d signatures, want 2", got)
	}
}

// TestVerifyRefusedSignatureNotRemembered: a signature that does not verify
// takes no room in the replay cache (else anyone could fill it).
func TestVerifyRefusedSignatureNotRemembered(t *testing.T) {
	cache := NewReplayCache(1)
	v := goldenVerifier(t, WithReplayCache(cache))
	r := loadGolden(t, "post-json")
	r.Header.Set("X-Padded", "changed")
	if _, err := v.Verify(r); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("Verify error %v, want %v", err, ErrSignatureMismatch)
	}
	if _, err := v.Verify(loadGolden(t, "post-json")); err != nil {
		t.Fatalf("valid request after a refused one: %v", err)
	}
	if _, err := v.Verify(loadGolden(t, "get-query")); !errors.Is(err, ErrReplayCacheFull) {
		t.Fatalf("Verify with a full cache: %v, want %v", err, ErrReplayCacheFull)
	}
}

// TestVerifyRestoresBody: the handler reads the whole body after Verify,
// whether it accepted or refused the request.
func TestVerifyRestoresBody(t *testing.T) {
	const body = `{"note":"<&>","tracker_name":"system","tracker_type":"system"}` + "\n"
	for _, padded := range []string{"padded value", "changed"} {
		r := loadGolden(t, "post-json")
		r.Header.Set("X-Padded", padded)
		_, verr := goldenVerifier(t).Verify(r)
		got, err := io.ReadAll(r.Body)
		if err != nil || string(got) != body {
			t.Errorf("X-Padded %q (Verify: %v): handler read %q, %v; want %q", padded, verr, got, err, body)
		}
	}
}

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
func (failingBody) Close() error             { return nil }

// TestSignatureErrorText: the error says what was refused and why, names the
// access key and keeps an I/O cause reachable.
func TestSignatureErrorText(t *testing.T) {
	at := goldenTime(t).Add(time.Hour)
	_, err := goldenVerifier(t, WithNow(func() time.Time { return at })).Verify(loadGolden(t, "get-query"))
	want := "signature refused: X-Sdk-Date outside the allowed clock skew: dated 20260102T030405Z, 1h0m0s from now, more than 15m0s (access key " + goldenAK + ")"
	if err == nil || err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	r := loadGolden(t, "post-json")
	r.Body = failingBody{}
	_, err = goldenVerifier(t).Verify(r)
	if !errors.Is(err, ErrSignatureBodyRead) || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("error %v, want %v with its cause", err, ErrSignatureBodyRead)
	}
}

// testSign signs r as the SDK does, over the signed header names given
// (sorted, lower-case, with x-sdk-date): TestTestSignerMatchesSDK holds it to
// the SDK's golden output. Benchmarks use it to make distinct signatures.
func testSign(r *http.Request, ak, sk string, date time.Time, signed []string) {
	r.Header.Set(SignatureDateHeader, date.UTC().Format(SignatureDateFormat))
	r.Header.Del("Authorization")
	a := sdkAuthorization{access: ak, signedHeaders: signed}
	query, _ := url.ParseQuery(r.URL.RawQuery)
	hash := r.Header.Get(ContentSHA256Header)
	if hash == "" {
		body, _ := io.ReadAll(r.Body)
		setBody(r, string(body))
		hash = fmt.Sprintf("%x", sha256.Sum256(body))
	}
	mac := hmac.New(sha256.New, []byte(sk))
	writeStringToSign(mac, r, query, a, date, hash)
	r.Header.Set("Authorization", fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%x",
		SignatureAlgorithm, ak, strings.Join(signed, ";"), mac.Sum(nil)))
}

// TestTestSignerMatchesSDK: testSign reproduces the SDK's Authorization on
// every golden request.
func TestTestSignerMatchesSDK(t *testing.T) {
	for _, name := range []string{"get-query", "get-escaped-path", "post-json", "post-host-signed", "get-unsigned-payload"} {
		r := loadGolden(t, name)
		want := r.Header.Get("Authorization")
		a, err := parseSignatureAuthorization(want)
		if err != nil {
			t.Fatal(err)
		}
		testSign(r, goldenAK, goldenSK, goldenTime(t), a.signedHeaders)
		if got := r.Header.Get("Authorization"); got != want {
			t.Errorf("%s: testSign\n%s\nSDK\n%s", name, got, want)
		}
	}
}

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
