package kubernetes

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
)

// Common names of the client certificates the auth file knows.
const (
	writerCN = "kube-apiserver" // kube-apiserver-prod: sources:put
	readerCN = "auditor"        // auditor: rules:read only
)

// fixture is one auditbus deployment as router/README.md describes it:
// TLS with a server certificate for 127.0.0.1, client certificates of
// their own CA (--tls-client-ca), and an auth file. Servers started from
// it share its data directory, so a restart keeps what was stored.
type fixture struct {
	serverCA, clientCA *testCA
	serverCert         keyPair
	authFile, dataDir  string
	natsURL            string // "" for the embedded NATS server
	// Tokens of the auth file's identities: writer may post Kubernetes
	// audit events, reader only read rules, ops only read metrics.
	writerToken, readerToken, opsToken string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{serverCA: newTestCA(t, "auditbus server CA"), clientCA: newTestCA(t, "auditbus client CA"), dataDir: t.TempDir()}
	f.serverCert = f.serverCA.issueServer(t)
	var hashes [3]string
	for i, tok := range []*string{&f.writerToken, &f.readerToken, &f.opsToken} {
		var err error
		if *tok, hashes[i], err = auth.NewToken(); err != nil {
			t.Fatal(err)
		}
	}
	f.authFile = writeFile(t, filepath.Join(t.TempDir(), "auth.yaml"), fmt.Appendf(nil, `identities:
  - name: kube-apiserver-prod
    tokens: [%q]
    certificates: [{common_name: %s}]
    actions: [sources:put]
  - name: auditor
    tokens: [%q]
    certificates: [{common_name: %s}]
    actions: [rules:read]
  - name: ops
    tokens: [%q]
    actions: [metrics:read]
`, hashes[0], writerCN, hashes[1], readerCN, hashes[2]))
	return f
}

// start runs auditbus on listen (127.0.0.1:0 for a new port, or the
// address of a stopped server to take its place), stopped by t.Cleanup
// unless the test stops it first.
func (f *fixture) start(t *testing.T, listen string) *router.Server {
	t.Helper()
	cfg := router.Config{
		Listen: listen, DataDir: f.dataDir, NATSURL: f.natsURL, NATSListen: "-",
		TLSCertFile: f.serverCert.cert, TLSKeyFile: f.serverCert.key, TLSClientCAFile: f.clientCA.file,
		AuthFile: f.authFile, ShutdownGrace: time.Second,
		// Every request of these tests comes from 127.0.0.1, and the
		// refusal tests fail on purpose, more often than the default
		// burst of failures allows before auditbus answers 429.
		AuthFailureRate: -1,
		Log:             zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Stdout:          io.Discard,
	}
	s, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start auditbus: %v", err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// baseURL is the server's API as the kubeconfig names it.
func baseURL(s *router.Server) string { return "https://" + s.Addr() }

// metric sums the samples of a counter (or a histogram's _count) that
// auditbus exports on GET /metrics, over those with every given label.
func (f *fixture) metric(t *testing.T, s *router.Server, name string, labels ...string) float64 {
	t.Helper()
	return f.metricAt(t, baseURL(s), name, labels...)
}

// metricAt is metric of the auditbus serving base (https://host:port),
// which may be another process.
func (f *fixture) metricAt(t *testing.T, base, name string, labels ...string) float64 {
	t.Helper()
	c := f.client()
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+f.opsToken)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		sample, ok := matchSample(sc.Text(), name, labels)
		if ok {
			sum += sample
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	return sum
}

// matchSample parses one line of the Prometheus text format when it is a
// sample of name carrying every label (`key="value"`).
func matchSample(line, name string, labels []string) (float64, bool) {
	rest, ok := strings.CutPrefix(line, name)
	if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
		return 0, false
	}
	set, value := "", rest
	if rest[0] == '{' {
		end := strings.Index(rest, "} ")
		if end < 0 {
			return 0, false
		}
		set, value = rest[1:end], rest[end+1:]
	}
	for _, l := range labels {
		if !strings.Contains(","+set+",", ","+l+",") {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	return v, err == nil
}

// Routes of the Kubernetes audit endpoint, as auditbus labels its metrics.
const (
	clusterRoute = "/v1/sources/k8s-audit/{cluster}" // the cluster in the path, as README's kubeconfig has it
	queryRoute   = "/v1/sources/k8s-audit"           // ?cluster=
)

// posts counts the POSTs auditbus answered on route with a status of
// class ("2xx", "4xx", "5xx").
func (f *fixture) posts(t *testing.T, s *router.Server, route, class string) float64 {
	return f.metric(t, s, "auditbus_http_request_duration_seconds_count",
		`method="POST"`, fmt.Sprintf(`route=%q`, route), fmt.Sprintf(`status=%q`, class))
}
