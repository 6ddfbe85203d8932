package sources

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/auditbus/auditbus/router/sources/redacttest"
)

// scanAgrees fails t when the scan proves doc unchanged but the decoder
// refuses it or walk would change it: the scan may only skip work.
func scanAgrees(t *testing.T, r *Redactor, doc string) bool {
	t.Helper()
	if !r.unchanged(doc, 0) {
		return false
	}
	v, err := decodeStrict([]byte(doc))
	if err != nil {
		t.Fatalf("scan passed %q, which the decoder refuses: %v", doc, err)
	}
	if _, changed := r.walk(v, 0); changed {
		t.Fatalf("scan passed %q, which redaction changes", doc)
	}
	return true
}

func TestScan(t *testing.T) {
	r := NewRedactor(DefaultRedactKeys)
	for _, c := range []struct {
		doc  string
		pass bool
	}{
		{`{"a":1,"b":[true,false,null,-0.5e+3,"x"],"c":{}}`, true},
		{` {"userName":"alice","requestParameters":"{\"Region\":\"ap-guangzhou\"}"} `, true},
		{`"plain text"`, true},
		{`{"a":"\u00e9\ud83d\ude00\n"}`, true},
		{`{"集群":"cls-1"}`, true},
		{`{"password":"hunter2"}`, false},             // a secret key
		{`{"password":null}`, false},                  // any secret key goes to the decoder
		{`{"a":1,"a":2}`, false},                      // a key twice
		{`{"a":"x","\u0061":"y"}`, false},             // a key twice, once escaped
		{`{"name":"DB_PASSWORD","value":"x"}`, false}, // a pair naming a secret
		{`["--api-token","x"]`, false},                // a flag naming a secret
		{`{"kind":"Secret","data":{"k":"dg=="}}`, false},
		{`{"objectRef":{"resource":"secrets"}}`, false},
		{`{"a":"Authorization: Bearer abcdefghijkl"}`, false}, // a value detector
		{`{"a":"{\"token\":\"x\"}"}`, false},                  // a secret in an embedded document
		{`{"a":"\ud83d"}`, false},                             // a lone surrogate
		{"{\"a\":\"\xff\"}", false},                           // invalid UTF-8
		{`{"a":01}`, false}, {`{"a":1.}`, false}, {`[1,]`, false}, {`{"a":1,}`, false}, {`{} {}`, false},
		{`{"a" 1}`, false}, {`{"a":tru}`, false}, {`{"a":"x\q"}`, false}, {"{\"a\":\"\t\"}", false}, {``, false},
	} {
		if got := scanAgrees(t, r, c.doc); got != c.pass {
			t.Errorf("scan of %q: %v, want %v", c.doc, got, c.pass)
		}
	}
}

// FuzzScan: whatever the scan passes, the decoder accepts and redaction
// leaves alone.
func FuzzScan(f *testing.F) {
	corpus, err := redacttest.Corpus()
	if err != nil {
		f.Fatal(err)
	}
	for i, p := range corpus {
		f.Add(p.CloudAudit(i))
		f.Add(p.K8s(i))
	}
	files, _ := filepath.Glob("testdata/*/*.input.*")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(`{"a":"{\"b\":\"[1,2]\"}","c":[{"d":-1.5E-7}]}`)
	r := NewRedactor(DefaultRedactKeys)
	f.Fuzz(func(t *testing.T, doc string) { scanAgrees(t, r, doc) })
}
