package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/rules"
)

// unmaskCases are stored documents with secrets in every place mask
// finds them.
var unmaskCases = map[string]string{
	"headers": "name: a\ntargets:\n  - id: hook\n    webhook: {url: \"http://127.0.0.1:9/x\", headers: {X-Api-Key: k3y, Authorization: \"Bearer t0k\"}}\n",
	"url":     "name: a\ntargets:\n  - id: hook\n    webhook:\n      url: http://ops:pa55@127.0.0.1:9/x?token=real&team=blue # the on-call hook\n",
	"alias":   "name: a\ntargets:\n  - id: one\n    webhook: {url: \"http://127.0.0.1:9/a\", headers: {X-Token: &t s3cret}}\n  - id: two\n    webhook: {url: \"http://127.0.0.1:9/b\", headers: {X-Other: *t}}\n",
	"mapping": "name: a\ntargets:\n  - id: hook\n    webhook:\n      url: http://127.0.0.1:9/x\n      credentials: {user: ops, password: pw}\n",
	"number":  "name: a\ntargets:\n  - id: hook\n    webhook: {url: \"http://127.0.0.1:9/x\", api_key: 1234}\n",
	"none":    "name: a\ntargets:\n  - id: out\n    log: {}\n",
}

// TestUnmaskRoundTrip: the editor's text of a stored document, saved
// unchanged, is the stored document, byte for byte.
func TestUnmaskRoundTrip(t *testing.T) {
	for name, stored := range unmaskCases {
		t.Run(name, func(t *testing.T) {
			shown := EditableDocument([]byte(stored))
			if shown == "" {
				t.Fatal("no editable document")
			}
			for _, secret := range []string{"k3y", "t0k", "pa55", "real", "s3cret", ": pw", "1234"} {
				if strings.Contains(shown, secret) {
					t.Fatalf("the shown document holds %q:\n%s", secret, shown)
				}
			}
			out, err := unmaskDocument([]byte(stored), []byte(shown))
			if err != nil || string(out) != stored {
				t.Errorf("unmasked (%v):\n%s\nwant:\n%s", err, out, stored)
			}
		})
	}
}

// TestUnmaskEdits: edits are taken as typed, secrets left as shown are
// put back in place (other lines keep their line numbers), and a mask
// left in a changed value or a new target is refused at its line:col.
func TestUnmaskEdits(t *testing.T) {
	stored := unmaskCases["headers"] + "  - id: page\n    webhook: {url: \"http://127.0.0.1:9/p?key=pk\"}\n"
	tests := []struct {
		name, edited string
		want         []string // in the result
		problems     []string // "line:col: path"
	}{
		{"reordered targets, matched by id",
			"name: a\ntargets:\n  - id: page\n    webhook: {url: \"http://127.0.0.1:9/p?key=***\"}\n  - id: hook\n    webhook: {url: \"http://127.0.0.1:9/y\", headers: {X-Api-Key: \"***\", Authorization: \"***\"}}\n",
			[]string{"line 4: " + `webhook: {url: "http://127.0.0.1:9/p?key=pk"}`, `line 6: webhook: {url: "http://127.0.0.1:9/y", headers: {X-Api-Key: "k3y", Authorization: "Bearer t0k"}}`}, nil},
		{"a typed secret",
			"name: a\ntargets:\n  - id: hook\n    webhook: {url: \"http://127.0.0.1:9/x\", headers: {X-Api-Key: n3w, Authorization: '***'}}\n",
			[]string{`line 4: webhook: {url: "http://127.0.0.1:9/x", headers: {X-Api-Key: n3w, Authorization: "Bearer t0k"}}`}, nil},
		{"a changed URL keeping a masked query value",
			"name: a\ntargets:\n  - id: page\n    webhook: {url: \"http://127.0.0.1:9/q?key=***\"}\n", nil,
			[]string{"4:20: targets[0].webhook.url"}},
		{"a target sent to another host",
			"name: a\ntargets:\n  - id: hook\n    webhook: {url: \"http://127.0.0.2:9/x\", headers: {X-Api-Key: \"***\", Authorization: \"***\"}}\n", nil,
			[]string{"4:65: targets[0].webhook.headers.X-Api-Key", "4:87: targets[0].webhook.headers.Authorization"}},
		{"a mask in a new target",
			"name: a\ntargets:\n  - id: new\n    webhook:\n      url: http://127.0.0.1:9/n\n      headers: {X-Api-Key: \"***\"}\n", nil,
			[]string{"6:28: targets[0].webhook.headers.X-Api-Key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := unmaskDocument([]byte(stored), []byte(tt.edited))
			var errs rules.Errors
			if tt.problems != nil {
				if !errors.Is(err, ErrStillMasked) || !errors.As(err, &errs) || len(errs) != len(tt.problems) {
					t.Fatalf("err %v, want %d problem(s)", err, len(tt.problems))
				}
				for i, p := range tt.problems {
					if got := fmt.Sprintf("%d:%d: %s", errs[i].Pos.Line, errs[i].Pos.Col, errs[i].Msg); !strings.HasPrefix(got, p+" still holds the mask ***: ") {
						t.Errorf("problem %q, want %q...", got, p)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(out), "\n")
			if len(lines) != strings.Count(tt.edited, "\n")+1 {
				t.Errorf("%d lines, want the edited document's %d:\n%s", len(lines), strings.Count(tt.edited, "\n")+1, out)
			}
			for _, w := range tt.want {
				var n int
				var text string
				fmt.Sscanf(w, "line %d:", &n)
				text = w[strings.Index(w, ": ")+2:]
				if n > len(lines) || strings.TrimSpace(lines[n-1]) != text {
					t.Errorf("line %d of the result is not %q:\n%s", n, text, out)
				}
			}
			var v any
			if err := yaml.Unmarshal(out, &v); err != nil {
				t.Errorf("the result does not parse: %v\n%s", err, out)
			}
		})
	}
}

// FuzzUnmask: whatever a target's URL and header hold, the editor's text
// saved unchanged is the stored document (or one of the same value), or
// is refused because the stored values themselves hold the mask: a
// secret never becomes ***.
func FuzzUnmask(f *testing.F) {
	f.Add("http://ops:pa55@127.0.0.1:9/x?token=real&team=blue", "X-Api-Key", "k3y")
	f.Add("http://127.0.0.1:9/x", "Accept", "application/json")
	f.Add("::not a url", "Authorization", "Bearer t0k")
	f.Fuzz(func(t *testing.T, url, key, value string) {
		q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
		stored := fmt.Sprintf("name: a\ntargets:\n  - id: hook\n    webhook:\n      url: %s\n      headers: {%s: %s}\n", q(url), q(key), q(value))
		shown := EditableDocument([]byte(stored))
		if shown == "" {
			return
		}
		out, err := unmaskDocument([]byte(stored), []byte(shown))
		if err != nil {
			if !errors.Is(err, ErrStillMasked) || !strings.Contains(url+key+value, "*") {
				t.Fatalf("refused (%v) though the stored document holds no mask:\n%s\nshown:\n%s", err, stored, shown)
			}
			return
		}
		if string(out) != stored && !sameValue(out, []byte(stored)) {
			t.Fatalf("saved unchanged, the document changed:\n%s\nto:\n%s\nshown:\n%s", stored, out, shown)
		}
	})
}

// TestUnmaskReencodes: a masked value whose text cannot be replaced in
// place (here it carries a tag) still gets the stored value, the
// document re-encoded.
func TestUnmaskReencodes(t *testing.T) {
	stored := unmaskCases["headers"]
	edited := "name: a\ntargets:\n  - id: hook\n    webhook: {url: \"http://127.0.0.1:9/y\", headers: {X-Api-Key: !!str \"***\", Authorization: \"***\"}}\n"
	out, err := unmaskDocument([]byte(stored), []byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Targets []struct {
			Webhook struct {
				URL     string            `yaml:"url"`
				Headers map[string]string `yaml:"headers"`
			} `yaml:"webhook"`
		} `yaml:"targets"`
	}
	if err := yaml.Unmarshal(out, &v); err != nil || len(v.Targets) != 1 {
		t.Fatalf("%v:\n%s", err, out)
	}
	if w := v.Targets[0].Webhook; w.URL != "http://127.0.0.1:9/y" || w.Headers["X-Api-Key"] != "k3y" || w.Headers["Authorization"] != "Bearer t0k" {
		t.Errorf("re-encoded: %+v", w)
	}
}
