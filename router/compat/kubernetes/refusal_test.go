package kubernetes

import (
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
)

// TestRefusedKubeconfigStoresNothing: a kubeconfig whose credential
// auditbus refuses, or whose server URL carries the cluster in a query
// string (which client-go drops), stores nothing. kube-apiserver's
// backend retries every error, so each event costs one attempt per
// backoff step, and then it gives up: blocking mode reports the event
// dropped and counts it in apiserver_audit_error_total{plugin="webhook"}.
func TestRefusedKubeconfigStoresNothing(t *testing.T) {
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	wrongToken, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	otherCA := newTestCA(t, "another CA")
	for _, c := range []struct {
		name    string
		urlPath string // "" for the README's
		cred    func(*testing.T) credential
		mode    mode
		route   string // where auditbus answers; "" when no request gets that far
		reason  string // auditbus_auth_failures_total's; "" for none
		code    string // auditbus_ingest_rejected_requests_total's; "" for none
	}{
		{name: "token of no identity", cred: token(wrongToken), mode: blocking, route: clusterRoute, reason: "token"},
		{name: "token of no identity/batch", cred: token(wrongToken), mode: batch, route: clusterRoute, reason: "token"},
		{name: "token without sources:put", cred: token(f.readerToken), mode: blocking, route: clusterRoute, reason: "forbidden"},
		{name: "certificate without sources:put", cred: cert(f.clientCA, readerCN), mode: blocking, route: clusterRoute, reason: "forbidden"},
		{name: "certificate of no identity", cred: cert(f.clientCA, "stranger"), mode: blocking, route: clusterRoute, reason: "certificate"},
		// auditbus's TLS handshake refuses it: no HTTP request at all.
		{name: "certificate of another CA", cred: cert(otherCA, writerCN), mode: blocking},
		// client-go sends /v1/sources/k8s-audit?timeout=30s: no cluster
		// (AB.1002, a missing attribute).
		{name: "cluster in the query string", urlPath: "/v1/sources/k8s-audit?cluster=prod", cred: token(f.writerToken), mode: blocking, route: queryRoute, code: "AB.1002"},
	} {
		t.Run(c.name, func(t *testing.T) {
			kc := writeKubeconfig(t, baseURL(s), c.urlPath, f.serverCA.file, c.cred(t))
			events := auditEvents(2)
			errorsBefore, failuresBefore, rejectedBefore := webhookErrors(t), f.authFailures(t, s, c.reason), f.rejected(t, s, c.code)
			refusedBefore, allBefore := f.posts(t, s, c.route, "4xx"), f.allPosts(t, s)
			dropped := deliver(newBackend(t, kc, quickBackoff, nil), c.mode, events)
			if c.mode == blocking && dropped != len(events) {
				t.Errorf("the backend reported %d of %d events dropped", dropped, len(events))
			}
			if n := webhookErrors(t) - errorsBefore; n != float64(len(events)) {
				t.Errorf("the backend counted %v events it gave up on, want %d", n, len(events))
			}
			if got := storedEvents(t, s); len(got) != 0 {
				t.Fatalf("auditbus stored %d events", len(got))
			}
			// Each POST was tried once per step of the backoff; in batch
			// mode the events may have travelled in one POST or several.
			refused := f.posts(t, s, c.route, "4xx") - refusedBefore
			switch {
			case c.route == "":
				if n := f.allPosts(t, s) - allBefore; n != 0 {
					t.Errorf("auditbus answered %v POSTs, want none", n)
				}
			case c.mode == blocking && refused != float64(len(events)*quickBackoff.Steps):
				t.Errorf("auditbus refused %v POSTs, want %d events x %d attempts", refused, len(events), quickBackoff.Steps)
			case c.mode == batch && (refused == 0 || int(refused)%quickBackoff.Steps != 0):
				t.Errorf("auditbus refused %v POSTs, want a multiple of %d attempts", refused, quickBackoff.Steps)
			}
			if c.reason != "" {
				if n := f.authFailures(t, s, c.reason) - failuresBefore; n != refused {
					t.Errorf("auditbus counted %v auth failures for %s, want one per refused POST (%v)", n, c.reason, refused)
				}
			}
			if c.code != "" {
				if n := f.rejected(t, s, c.code) - rejectedBefore; n != refused {
					t.Errorf("auditbus rejected %v requests with %s, want one per refused POST (%v)", n, c.code, refused)
				}
			}
		})
	}
	if n := f.posts(t, s, clusterRoute, "2xx") + f.posts(t, s, queryRoute, "2xx"); n != 0 {
		t.Errorf("auditbus accepted %v POSTs", n)
	}
}

func token(tok string) func(*testing.T) credential {
	return func(*testing.T) credential { return credential{token: tok} }
}

func cert(ca *testCA, cn string) func(*testing.T) credential {
	return func(t *testing.T) credential { return credential{cert: ca.issueClient(t, cn)} }
}

// allPosts counts every POST auditbus answered.
func (f *fixture) allPosts(t *testing.T, s *router.Server) float64 {
	return f.metric(t, s, "auditbus_http_request_duration_seconds_count", `method="POST"`)
}

// rejected is auditbus_ingest_rejected_requests_total{code}; 0 for no code.
func (f *fixture) rejected(t *testing.T, s *router.Server, code string) float64 {
	if code == "" {
		return 0
	}
	return f.metric(t, s, "auditbus_ingest_rejected_requests_total", `code="`+code+`"`)
}

// authFailures is auditbus_auth_failures_total{reason}; 0 for no reason.
func (f *fixture) authFailures(t *testing.T, s *router.Server, reason string) float64 {
	if reason == "" {
		return 0
	}
	return f.metric(t, s, "auditbus_auth_failures_total", `reason="`+reason+`"`)
}
