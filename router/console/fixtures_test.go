package console_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// deleteRule is a file rule matching successful TKE DeleteCluster calls.
const deleteRule = `name: tke-cluster-deleted
description: a TKE cluster was deleted
pattern:
  type: ["tke:CloudEvent:ApiCall"]
  data:
    eventName: ["DeleteCluster"]
targets:
  - id: out
    log: {}
`

// prodRule runs on bus prod only.
const prodRule = `name: prod-everything
bus: prod
pattern: {}
targets:
  - id: out
    log: {}
`

// createCluster is an event deleteRule does not match: its eventName is
// CreateCluster.
const createCluster = `{"specversion":"1.0","id":"evt-1","source":"cloudaudit.tencentcloudapi.com","type":"tke:CloudEvent:ApiCall","subject":"cls-42","time":"2026-12-01T10:00:00Z","datacontenttype":"application/json","data":{"eventName":"CreateCluster","errorCode":0}}`

// apiRule is an API rule document.
const apiRule = `name: console-edited
pattern:
  source: ["cloudaudit.tencentcloudapi.com"]
targets:
  - id: out
    log: {}
`

// client is an HTTP client with a cookie jar that does not follow
// redirects, so tests read the console's answers as they are.
func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// call sends a request, returning the status, headers and body.
func call(t *testing.T, c *http.Client, method, u string, header http.Header, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var form = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

// signIn signs c in with token over HTTP, returning the CSRF token of
// its session (read off the rules page's sign-out form).
func signIn(t *testing.T, c *http.Client, r *consoletest.Router, token string) string {
	t.Helper()
	status, _, body := call(t, c, http.MethodPost, r.Console+"sign-in", form, url.Values{"token": {token}}.Encode())
	if status != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", status, body)
	}
	_, _, page := call(t, c, http.MethodGet, r.Console+"rules", nil, "")
	return csrfOf(t, page)
}

// csrfOf reads the CSRF token off a page's sign-out form.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	const mark = `name="csrf" value="`
	i := strings.Index(page, mark)
	if i < 0 {
		t.Fatalf("no CSRF field on the page:\n%s", page)
	}
	rest := page[i+len(mark):]
	return rest[:strings.IndexByte(rest, '"')]
}

// putRule stores an API rule through the API.
func putRule(t *testing.T, r *consoletest.Router, name, doc string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, r.URL+"/v1/rules/"+name, bytes.NewReader([]byte(doc)))
	req.Header.Set("Authorization", "Bearer "+consoletest.AdminToken)
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT rule %s: %d", name, resp.StatusCode)
	}
}

// publish stores a CloudEvent through POST /v1/events.
func publish(t *testing.T, r *consoletest.Router, event string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.URL+"/v1/events", strings.NewReader(event))
	req.Header.Set("Authorization", "Bearer "+consoletest.AdminToken)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
}
