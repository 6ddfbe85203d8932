package auth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The golden requests in testdata/sdk were built and signed by the Huawei
// Cloud Go SDK (router/compat/huaweicloud writes them: go -C router/compat/huaweicloud
// test -run TestGolden -update), with this key pair, at this date.
const (
	goldenAK   = "HPUAEXAMPLEAK0000001"
	goldenSK   = "examplesecretkey0000000000000000000000ab"
	goldenDate = "20260102T030405Z"
)

func goldenTime(t testing.TB) time.Time {
	d, err := time.Parse(SignatureDateFormat, goldenDate)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// loadGolden reads a golden request as net/http's server would parse it.
func loadGolden(t testing.TB, name string) *http.Request {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sdk", name+".http"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

func goldenKeys(ak string) ([]byte, bool) {
	if ak == goldenAK {
		return []byte(goldenSK), true
	}
	return nil, false
}

// goldenVerifier verifies at the golden date unless opts say otherwise.
func goldenVerifier(t testing.TB, opts ...SignatureOption) *SignatureVerifier {
	at := goldenTime(t)
	return NewSignatureVerifier(goldenKeys, append([]SignatureOption{WithNow(func() time.Time { return at })}, opts...)...)
}

// TestVerifyGolden: every request the SDK signed verifies, except an
// UNSIGNED-PAYLOAD one with a body, and Verify names the access key.
func TestVerifyGolden(t *testing.T) {
	tests := []struct {
		name string
		want error
	}{
		{"get-query", nil},            // escaping, repeated keys, empty values, map parameters
		{"get-escaped-path", nil},     // escaped segments and a trailing slash
		{"post-json", nil},            // body hash, trimmed and repeated header values
		{"post-host-signed", nil},     // host signed, taken from r.Host
		{"get-unsigned-payload", nil}, // UNSIGNED-PAYLOAD without a body
		{"post-unsigned-payload", ErrSignatureBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ak, err := goldenVerifier(t).Verify(loadGolden(t, tc.name))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error %v, want %v", err, tc.want)
			}
			if tc.want == nil && ak != goldenAK {
				t.Fatalf("Verify = %q, want %q", ak, goldenAK)
			}
		})
	}
}

// withLookup replaces the verifier's key lookup (a test-only option).
func withLookup(f func(string) ([]byte, bool)) SignatureOption {
	return func(v *SignatureVerifier) { v.lookup = f }
}

func setAuthorization(r *http.Request, f func(string) string) {
	r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
}

func setBody(r *http.Request, body string) {
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
}

// TestVerifyRefuses: a golden request changed in any signed part, or
// verified with the wrong key or clock, is refused with the reason.
func TestVerifyRefuses(t *testing.T) {
	date := goldenTime(t)
	at := func(d time.Duration) SignatureOption { return WithNow(func() time.Time { return date.Add(d) }) }
	tests := []struct {
		name   string
		golden string
		change func(r *http.Request)
		opts   []SignatureOption
		want   error
	}{
		{"changed byte in the body", "post-json", func(r *http.Request) {
			setBody(r, `{"note":"<&>","tracker_name":"systen","tracker_type":"system"}`+"\n")
		}, nil, ErrSignatureMismatch},
		{"changed byte in the path", "post-json", func(r *http.Request) { r.URL.Path = "/v3/0123456789abcdef0123456789abcdef/trackex" }, nil, ErrSignatureMismatch},
		{"path trailing slash signs alike", "post-json", func(r *http.Request) { r.URL.Path += "/" }, nil, nil},
		{"changed byte in the query", "get-query", func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "limit=50", "limit=51", 1)
		}, nil, ErrSignatureMismatch},
		{"added query parameter", "get-query", func(r *http.Request) { r.URL.RawQuery += "&x=1" }, nil, ErrSignatureMismatch},
		{"removed repeated query value", "get-query", func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "resource_id=a-1&", "", 1)
		}, nil, ErrSignatureMismatch},
		{"reordered query", "get-query", func(r *http.Request) {
			q := strings.Split(r.URL.RawQuery, "&")
			slices.Reverse(q)
			r.URL.RawQuery = strings.Join(q, "&")
		}, nil, nil},
		{"malformed query", "get-query", func(r *http.Request) { r.URL.RawQuery += "&%zz" }, nil, ErrSignatureMalformed},
		{"changed signed header", "post-json", func(r *http.Request) { r.Header.Set("X-Padded", "padded valve") }, nil, ErrSignatureMismatch},
		{"removed signed header", "post-json", func(r *http.Request) { r.Header.Del("X-Padded") }, nil, ErrSignatureMismatch},
		{"added value to signed header", "post-json", func(r *http.Request) { r.Header.Add("X-Multi", "c") }, nil, ErrSignatureMismatch},
		{"unsigned header changed (the SDK leaves Content-Type unsigned)", "post-json", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, nil, nil},
		{"changed signed host", "post-host-signed", func(r *http.Request) { r.Host = "127.0.0.1:8081" }, nil, ErrSignatureMismatch},
		{"changed method", "get-escaped-path", func(r *http.Request) { r.Method = http.MethodDelete }, nil, ErrSignatureMismatch},
		{"wrong secret key", "get-query", nil, []SignatureOption{withLookup(func(string) ([]byte, bool) { return []byte(goldenSK + "x"), true })}, ErrSignatureMismatch},
		{"unknown access key", "get-query", func(r *http.Request) {
			setAuthorization(r, func(a string) string { return strings.Replace(a, goldenAK, "HPUAOTHERAK000000001", 1) })
		}, nil, ErrSignatureUnknownKey},
		{"old timestamp", "get-query", nil, []SignatureOption{at(DefaultClockSkew + time.Second)}, ErrSignatureSkew},
		{"future timestamp", "get-query", nil, []SignatureOption{at(-DefaultClockSkew - time.Second)}, ErrSignatureSkew},
		{"timestamp at the skew bound", "get-query", nil, []SignatureOption{at(DefaultClockSkew)}, nil},
		{"narrower skew", "get-query", nil, []SignatureOption{at(time.Minute + time.Second), WithClockSkew(time.Minute)}, ErrSignatureSkew},
		{"changed date", "get-query", func(r *http.Request) { r.Header.Set("X-Sdk-Date", "20260102T030406Z") }, nil, ErrSignatureMismatch},
		{"missing date", "get-query", func(r *http.Request) { r.Header.Del("X-Sdk-Date") }, nil, ErrSignatureDate},
		{"malformed date", "get-query", func(r *http.Request) { r.Header.Set("X-Sdk-Date", "2026-01-02T03:04:05Z") }, nil, ErrSignatureDate},
		{"two dates", "get-query", func(r *http.Request) { r.Header.Add("X-Sdk-Date", goldenDate) }, nil, ErrSignatureDate},
		{"date not signed", "get-query", func(r *http.Request) {
			setAuthorization(r, func(a string) string { return strings.Replace(a, "x-project-id;x-sdk-date", "x-project-id", 1) })
		}, nil, ErrSignatureUnsigned},
		{"host not signed is fine, but removing it from a signed list is not", "post-host-signed", func(r *http.Request) {
			setAuthorization(r, func(a string) string { return strings.Replace(a, "host;", "", 1) })
		}, nil, ErrSignatureMismatch},
		{"content hash header not matching the body", "post-json", func(r *http.Request) {
			r.Header.Set(ContentSHA256Header, strings.Repeat("0", 64))
		}, nil, ErrSignatureBody},
		{"UNSIGNED-PAYLOAD added to a request with a body", "post-json", func(r *http.Request) {
			r.Header.Set(ContentSHA256Header, UnsignedPayload)
		}, nil, ErrSignatureBody},
		{"body over the limit", "post-json", nil, []SignatureOption{WithMaxBodyBytes(10)}, ErrSignatureBodyTooLarge},
		{"body over the limit without Content-Length", "post-json", func(r *http.Request) { r.ContentLength = -1 }, []SignatureOption{WithMaxBodyBytes(10)}, ErrSignatureBodyTooLarge},
		{"malformed signature", "get-query", func(r *http.Request) {
			setAuthorization(r, func(a string) string { return a[:len(a)-1] })
		}, nil, ErrSignatureMalformed},
		{"second Authorization header", "get-query", func(r *http.Request) { r.Header.Add("Authorization", "Bearer x") }, nil, ErrSignatureMalformed},
		{"other Huawei algorithm", "get-query", func(r *http.Request) {
			setAuthorization(r, func(a string) string { return strings.Replace(a, SignatureAlgorithm, "SDK-HMAC-SM3", 1) })
		}, nil, ErrSignatureAlgorithm},
		{"no Authorization", "get-query", func(r *http.Request) { r.Header.Del("Authorization") }, nil, ErrNoSignature},
		{"bearer token", "get-query", func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, nil, ErrNoSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := loadGolden(t, tc.golden)
			if tc.change != nil {
				tc.change(r)
			}
			_, err := goldenVerifier(t, tc.opts...).Verify(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error %v, want %v", err, tc.want)
			}
			var se *SignatureError
			if isSigErr := errors.As(err, &se); isSigErr != (err != nil && tc.want != ErrNoSignature) {
				t.Fatalf("Verify error %#v: a *SignatureError is %v, want it for every refusal but ErrNoSignature", err, isSigErr)
			}
		})
	}
}

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
