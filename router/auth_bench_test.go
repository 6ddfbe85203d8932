package router_test

import (
	"crypto/x509/pkix"
	"io"
	"net/http"
	"testing"
)

// BenchmarkClientCertificate is the cost of mapping a client certificate
// to an identity on a cheap request (GET /v1/rules over TLS, keep-alive,
// so the handshake is paid once): compare with TLS and auth off. Tokens
// and signed requests are measured in router/compat/huaweicloud
// (BenchmarkAuthOverhead), over plain HTTP.
func BenchmarkClientCertificate(b *testing.B) {
	serverCA, clientCA := newTestCA(b, "server CA"), newTestCA(b, "client CA")
	for _, withAuth := range []bool{false, true} {
		name := "tls-auth-off"
		if withAuth {
			name = "tls-certificate"
		}
		b.Run(name, func(b *testing.B) {
			_, base := tlsServerFor(b, serverCA, clientCA, withAuth)
			c := certClient(b, serverCA, clientCA, pkix.Name{CommonName: "kube-apiserver"})
			b.ResetTimer()
			for range b.N {
				resp, err := c.Get(base + "/v1/rules")
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
