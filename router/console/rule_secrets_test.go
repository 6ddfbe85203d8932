package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// secretsRule has a URL password, query tokens and header secrets.
const secretsRule = `name: with-secrets
pattern:
  source: ["cloudaudit.tencentcloudapi.com"]
targets:
  - id: hook
    webhook:
      url: "http://ops:pa55word@127.0.0.1:9/x?token=real-token&team=blue"
      headers: {X-Api-Key: s3cret-value, Authorization: "Bearer b3arer"}
`

var (
	textareaRe = regexp.MustCompile(`(?s)<textarea id="document"[^>]*>(.*?)</textarea>`)
	revisionRe = regexp.MustCompile(`name="revision" value="(\d+)"`)
)

// TestEditKeepsSecrets: saving the editor's text unchanged stores the
// document unchanged (no secret becomes its mask: not a URL's password,
// not its query tokens, not a header); an edited URL is stored as typed
// while the untouched headers keep their secrets; a mask left in an
// edited value is refused naming the field at line:col, and nothing is
// stored.
func TestEditKeepsSecrets(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	putRule(t, r, "with-secrets", secretsRule)
	c := client(t)
	csrf := signIn(t, c, r, consoletest.AdminToken)
	edit := r.Console + "rules/default/with-secrets/edit"
	open := func() (doc, revision string) {
		t.Helper()
		_, _, page := call(t, c, http.MethodGet, edit, nil, "")
		for _, secret := range []string{"pa55word", "real-token", "s3cret-value", "b3arer"} {
			if strings.Contains(page, secret) {
				t.Fatalf("the editor shows the secret %q:\n%s", secret, page)
			}
		}
		m, rev := textareaRe.FindStringSubmatch(page), revisionRe.FindStringSubmatch(page)
		if m == nil || rev == nil {
			t.Fatalf("no document or revision in the editor:\n%s", page)
		}
		return html.UnescapeString(m[1]), rev[1]
	}
	save := func(doc, revision string) (int, string) {
		status, _, body := call(t, c, http.MethodPost, edit, form, url.Values{"csrf": {csrf}, "document": {doc}, "revision": {revision}}.Encode())
		return status, body
	}

	doc, rev := open()
	if status, body := save(doc, rev); status != http.StatusSeeOther {
		t.Fatalf("saving the editor's text unchanged: %d\n%s", status, body)
	}
	if got := storedDocument(t, r, "default.with-secrets"); got != secretsRule {
		t.Fatalf("saved unchanged, the document became:\n%s\nwant:\n%s", got, secretsRule)
	}

	doc, rev = open()
	masked := regexp.MustCompile(`http://ops:\*\*\*@127\.0\.0\.1:9/x\?[^"'\s]*`).FindString(doc)
	if masked == "" {
		t.Fatalf("no masked URL in the editor's text:\n%s", doc)
	}
	typed := strings.Replace(doc, masked, "http://ops:n3w-pass@127.0.0.1:9/y?token=n3w-token", 1)
	if status, body := save(typed, rev); status != http.StatusSeeOther {
		t.Fatalf("saving an edited URL: %d\n%s", status, body)
	}
	got := storedDocument(t, r, "default.with-secrets")
	for _, want := range []string{"http://ops:n3w-pass@127.0.0.1:9/y?token=n3w-token", "s3cret-value", "Bearer b3arer"} {
		if !strings.Contains(got, want) {
			t.Errorf("after editing the URL the stored document lacks %q:\n%s", want, got)
		}
	}

	doc, rev = open()
	masked = regexp.MustCompile(`http://ops:\*\*\*@127\.0\.0\.1:9/y\?[^"'\s]*`).FindString(doc)
	line := 1 + strings.Count(doc[:strings.Index(doc, masked)], "\n")
	halfTyped := strings.Replace(doc, masked, strings.Replace(masked, "/y?", "/z?", 1), 1)
	status, body := save(halfTyped, rev)
	if status != http.StatusBadRequest || !strings.Contains(body, "still holds masked secrets") ||
		!regexp.MustCompile(`<code>`+strconv.Itoa(line)+`:\d+: targets\[0\]\.webhook\.url still holds the mask`).MatchString(body) {
		t.Errorf("an edited URL still holding the mask: %d, want 400 naming targets[0].webhook.url at line %d:\n%s", status, line, body)
	}
	if after := storedDocument(t, r, "default.with-secrets"); after != got {
		t.Errorf("a refused document was stored:\n%s", after)
	}
}

// TestEditKeepsURLSecrets: a rule whose only secrets are in its URL
// (the query token, the password) saves unchanged from the editor.
func TestEditKeepsURLSecrets(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	const doc = "name: url-only\ntargets:\n  - id: hook\n    webhook: {url: \"http://ops:pa55word@127.0.0.1:9/x?token=real-token\"}\n"
	putRule(t, r, "url-only", doc)
	c := client(t)
	csrf := signIn(t, c, r, consoletest.AdminToken)
	edit := r.Console + "rules/default/url-only/edit"
	_, _, page := call(t, c, http.MethodGet, edit, nil, "")
	m, rev := textareaRe.FindStringSubmatch(page), revisionRe.FindStringSubmatch(page)
	if m == nil || rev == nil || strings.Contains(page, "real-token") || strings.Contains(page, "pa55word") {
		t.Fatalf("the editor shows a secret, or no document:\n%s", page)
	}
	status, _, body := call(t, c, http.MethodPost, edit, form, url.Values{"csrf": {csrf}, "document": {html.UnescapeString(m[1])}, "revision": {rev[1]}}.Encode())
	if got := storedDocument(t, r, "default.url-only"); status != http.StatusSeeOther || got != doc {
		t.Errorf("saved unchanged: %d, stored:\n%s\nwant:\n%s\n%s", status, got, doc, body)
	}
}

// storedDocument reads a rule's document from the rules bucket as stored.
func storedDocument(t *testing.T, r *consoletest.Router, key string) string {
	t.Helper()
	js, err := jetstream.New(r.NATS())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), "AUDITBUS_RULES")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("rule %s: %v", key, err)
	}
	return string(e.Value())
}
