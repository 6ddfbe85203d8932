package huaweicloud

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
)

// Access key pairs of the auth file the router tests run with.
const (
	writerAK, writerSK = "HPUAWRITERKEY0000001", "writer-secret-key-0123456789abcdefghijklmn"
	readerAK, readerSK = "HPUAREADERKEY0000001", "reader-secret-key-0123456789abcdefghijklmn"
	benchToken         = "abt_bench-token-for-the-auth-overhead"
)

// startRouter runs a whole auditbus on loopback with an auth file: the
// writer key may post events, the reader key may only read rules, and the
// token may read rules. Without auth it runs with none.
func startRouter(t testing.TB, withAuth bool) string {
	t.Helper()
	cfg := router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Log: zerolog.Nop(), Stdout: io.Discard, AuthFailureRate: -1}
	if withAuth {
		doc := fmt.Sprintf(`identities:
  - name: writer
    access_keys: [{id: %s, secret: %s}]
    actions: [events:put, rules:read]
  - name: reader
    access_keys: [{id: %s, secret: %s}]
    tokens: [%q]
    actions: [rules:read]
`, writerAK, writerSK, readerAK, readerSK, auth.HashToken(benchToken))
		cfg.AuthFile = filepath.Join(t.TempDir(), "auth.yaml")
		if err := os.WriteFile(cfg.AuthFile, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return "http://" + s.Addr()
}

// sdkRequest is a request built and signed (at the current time) by the
// SDK's request builder and basic.Credentials, the path every generated
// client takes.
func sdkRequest(t testing.TB, endpoint, ak, sk string, build func(*request.HttpRequestBuilder)) *http.Request {
	t.Helper()
	b := request.NewHttpRequestBuilder().WithEndpoint(endpoint).
		WithSigningAlgorithm(config.DefaultHttpConfig().SigningAlgorithm)
	build(b)
	signed, err := credentials(ak, sk).ProcessAuthRequest(nil, b.Build())
	if err != nil {
		t.Fatalf("SDK signing: %v", err)
	}
	hr, err := signed.ConvertRequest()
	if err != nil {
		t.Fatalf("SDK request conversion: %v", err)
	}
	return hr
}

func status(t testing.TB, r *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestRouterAcceptsSDKSignedRequests: auditbus itself, not only the
// verifier, takes a request the SDK signed with an identity's key pair,
// refuses it replayed, with a key of an identity that lacks the action,
// or with a wrong secret.
func TestRouterAcceptsSDKSignedRequests(t *testing.T) {
	base := startRouter(t, true)
	event := func(id string) func(*request.HttpRequestBuilder) {
		return func(b *request.HttpRequestBuilder) {
			// Binary mode: the SDK signs a body only under a JSON
			// content type (others it sends as UNSIGNED-PAYLOAD, which
			// auditbus refuses), and signs the ce-* headers.
			b.WithMethod(http.MethodPost).WithPath("/v1/events").
				AddHeaderParam("Content-Type", "application/json").
				AddHeaderParam("ce-specversion", "1.0").AddHeaderParam("ce-id", id).
				AddHeaderParam("ce-source", "sdk.test").AddHeaderParam("ce-type", "sdk:CloudEvent:ApiCall").
				WithBody("", map[string]any{"eventName": "DeleteCluster"})
		}
	}
	first := sdkRequest(t, base, writerAK, writerSK, event("sdk-1"))
	replay := first.Clone(context.Background())
	body, _ := first.GetBody()
	replay.Body = body
	if code, answer := status(t, first); code != 202 || !strings.Contains(answer, `"sdk-1"`) {
		t.Fatalf("SDK-signed POST /v1/events: %d %s", code, answer)
	}
	if code, answer := status(t, replay); code != 401 || !strings.Contains(answer, auth.CodeUnauthenticated) {
		t.Errorf("the same signed request again: %d %s, want 401", code, answer)
	}
	if code, answer := status(t, sdkRequest(t, base, readerAK, readerSK, event("sdk-2"))); code != 403 || !strings.Contains(answer, "events:put") {
		t.Errorf("reader's key on /v1/events: %d %s, want 403 naming events:put", code, answer)
	}
	if code, _ := status(t, sdkRequest(t, base, writerAK, readerSK, event("sdk-3"))); code != 401 {
		t.Errorf("writer's access key with another secret: %d, want 401", code)
	}
	// Under a content type the SDK does not hash, the body would travel
	// unsigned: refused.
	unsigned := sdkRequest(t, base, writerAK, writerSK, func(b *request.HttpRequestBuilder) {
		b.WithMethod(http.MethodPost).WithPath("/v1/events").
			AddHeaderParam("Content-Type", "application/cloudevents+json").
			WithBody("", map[string]any{"specversion": "1.0", "id": "sdk-4", "source": "sdk.test", "type": "sdk:CloudEvent:ApiCall"})
	})
	if unsigned.Header.Get(auth.ContentSHA256Header) != auth.UnsignedPayload {
		t.Fatalf("the SDK signed a cloudevents+json body after all (%q): this test no longer shows the refusal", unsigned.Header.Get(auth.ContentSHA256Header))
	}
	if code, _ := status(t, unsigned); code != 401 {
		t.Errorf("a body sent as UNSIGNED-PAYLOAD: %d, want 401", code)
	}
	rules := func(b *request.HttpRequestBuilder) {
		b.WithMethod(http.MethodGet).WithPath("/v1/rules").AddQueryParam("bus", reflect.ValueOf("default"))
	}
	if code, answer := status(t, sdkRequest(t, base, readerAK, readerSK, rules)); code != 200 {
		t.Errorf("reader's signed GET /v1/rules?bus=default: %d %s", code, answer)
	}
}

// BenchmarkAuthOverhead is the cost of auth on a cheap request (GET
// /v1/rules over loopback HTTP with keep-alive): with auth off, a bearer
// token, and an SDK-signed request (signed before the timer starts, one
// distinct request per iteration, since a signature is accepted once).
// Compare the ns/op of the variants; client certificates are measured in
// the router package (BenchmarkClientCertificate), over TLS.
func BenchmarkAuthOverhead(b *testing.B) {
	run := func(b *testing.B, base string, prepare func(i int) *http.Request) {
		reqs := make([]*http.Request, b.N)
		for i := range reqs {
			reqs[i] = prepare(i)
		}
		b.ResetTimer()
		for _, r := range reqs {
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("off", func(b *testing.B) {
		base := startRouter(b, false)
		run(b, base, func(i int) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/rules?n=%d", base, i), nil)
			return r
		})
	})
	b.Run("token", func(b *testing.B) {
		base := startRouter(b, true)
		run(b, base, func(i int) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/rules?n=%d", base, i), nil)
			r.Header.Set("Authorization", "Bearer "+benchToken)
			return r
		})
	})
	b.Run("signature", func(b *testing.B) {
		base := startRouter(b, true)
		run(b, base, func(i int) *http.Request {
			return sdkRequest(b, base, readerAK, readerSK, func(rb *request.HttpRequestBuilder) {
				rb.WithMethod(http.MethodGet).WithPath("/v1/rules").AddQueryParam("n", reflect.ValueOf(i))
			})
		})
	})
}
