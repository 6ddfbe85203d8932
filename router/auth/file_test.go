package auth

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestParseFileErrors: every problem of a bad auth file is reported with
// its line and column, in one pass.
func TestParseFileErrors(t *testing.T) {
	_, err := ParseFile("testdata/errors.yaml")
	errs, ok := err.(FileErrors)
	if !ok {
		t.Fatalf("error %T %v, want FileErrors", err, err)
	}
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	golden := "testdata/errors.golden"
	if *update {
		os.WriteFile(golden, []byte(b.String()), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("errors:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestParseFileShapes(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"empty list", "identities: []\n", "no identities"},
		{"not a list", "identities: {a: 1}\n", "want identities: a list"},
		{"unknown top key", "identity: []\n", `unknown key "identity"`},
		{"not yaml", "identities: [\n", "not a YAML document"},
		{"scalar", "hello\n", "want a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check("f", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestInlineSecretNeedsPrivateFile: a file holding a secret key in clear
// must not be readable by others; secret_file is held to the same rule.
func TestInlineSecretNeedsPrivateFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "auth.yaml")
	doc := "identities:\n  - name: k\n    access_keys: [{id: AK, secret: 0123456789abcdef0123}]\n    actions: [\"*\"]\n"
	os.WriteFile(p, []byte(doc), 0o644)
	if _, err := ParseFile(p); err == nil || !strings.Contains(err.Error(), "others may read it") {
		t.Errorf("world-readable file with an inline secret: %v, want a refusal", err)
	}
	os.Chmod(p, 0o600)
	tab, err := ParseFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(tab.keys["AK"].secret) != "0123456789abcdef0123" {
		t.Errorf("secret %q", tab.keys["AK"].secret)
	}

	sk := filepath.Join(dir, "k.sk")
	os.WriteFile(sk, []byte("fedcba9876543210fedc\n"), 0o644)
	os.WriteFile(p, []byte("identities:\n  - name: k\n    access_keys: [{id: AK, secret_file: k.sk}]\n    actions: [\"*\"]\n"), 0o644)
	if _, err := ParseFile(p); err == nil || !strings.Contains(err.Error(), "others may read it") {
		t.Errorf("world-readable secret file: %v, want a refusal", err)
	}
	os.Chmod(sk, 0o440) // a Kubernetes Secret mounted for an fsGroup
	tab, err = ParseFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(tab.keys["AK"].secret) != "fedcba9876543210fedc" {
		t.Errorf("secret from file %q, want it trimmed", tab.keys["AK"].secret)
	}
}

func TestGrants(t *testing.T) {
	for _, tc := range []struct {
		grant, action string
		want          bool
	}{
		{"*", ActionRulesWrite, true},
		{ActionRulesRead, ActionRulesRead, true},
		{ActionRulesRead, ActionRulesWrite, false},
		{"rules:*", ActionRulesWrite, true},
		{"rules:*", ActionDLQRead, false},
		{"cts:*", ActionCTSTrackerCreate, true},
		{"cts:tracker:*", ActionCTSTrackerCreate, true},
		{"cts:tracker:*", ActionCTSTraceList, false},
		{"cts:t*", ActionCTSTraceList, false}, // a star only after a colon
	} {
		if got := grants(tc.grant, tc.action); got != tc.want {
			t.Errorf("grants(%q, %q) = %v, want %v", tc.grant, tc.action, got, tc.want)
		}
	}
	for g, want := range map[string]bool{"*": true, "rules:*": true, "cts:tracker:*": true, "cts:*": true,
		"bogus:*": false, "rules:red": false, "cts:t*": false, "": false} {
		if validGrant(g) != want {
			t.Errorf("validGrant(%q) = %v, want %v", g, !want, want)
		}
	}
}

// TestExampleAuthFile: the example the docs point at loads.
func TestExampleAuthFile(t *testing.T) {
	t.Setenv("AUDITBUS_CTS_SCRIPTS_SK", "example-secret-key-of-forty-characters!!")
	tab, err := ParseFile("../../examples/auth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.names) != 4 || len(tab.keys) != 1 || len(tab.certs) != 1 {
		t.Errorf("identities %v, %d access keys, %d certificate matches", tab.names, len(tab.keys), len(tab.certs))
	}
}
