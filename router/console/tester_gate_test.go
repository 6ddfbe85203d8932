package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestTesterNeedsAuditReadToPick: rules:test alone tests pasted events:
// an identity without audit:read is shown no stored event and cannot
// fetch one with ?seq=; one with it picks them as before.
func TestTesterNeedsAuditReadToPick(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{Rules: []string{deleteRule}})
	publish(t, r, strings.Replace(createCluster, `"cls-42"`, `"cls-stored-secret"`, 1))
	tester := client(t)
	csrf := signIn(t, tester, r, consoletest.TesterToken)
	admin := client(t)
	signIn(t, admin, r, consoletest.AdminToken)

	_, _, page := call(t, admin, http.MethodGet, r.Console+"tester?seq=1", nil, "")
	if !strings.Contains(page, "cls-stored-secret") {
		t.Fatalf("the admin's tester does not show the stored event (the test proves nothing):\n%s", page)
	}
	status, _, page := call(t, tester, http.MethodGet, r.Console+"tester", nil, "")
	if status != http.StatusOK || strings.Contains(page, "cls-stored-secret") || strings.Contains(page, `id="recent"`) || !strings.Contains(page, "<code>audit:read</code>") {
		t.Errorf("tester page without audit:read: %d, lists stored events or does not say why not:\n%s", status, page)
	}
	status, _, page = call(t, tester, http.MethodGet, r.Console+"tester?seq=1", nil, "")
	if status != http.StatusForbidden || strings.Contains(page, "cls-stored-secret") || !strings.Contains(page, "needs the action audit:read") {
		t.Errorf("?seq=1 without audit:read: %d, want 403 without the event:\n%s", status, page)
	}
	_, _, page = call(t, tester, http.MethodPost, r.Console+"tester", form,
		url.Values{"csrf": {csrf}, "rule": {"default/tke-cluster-deleted"}, "event": {createCluster}}.Encode())
	if !strings.Contains(page, "Does not match") || strings.Contains(page, "cls-stored-secret") {
		t.Errorf("testing a pasted event without audit:read: no answer, or stored events listed:\n%s", page)
	}
}
