package topics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadFile: a good topics file, and each mistake alone with the
// message that names it.
func TestReadFile(t *testing.T) {
	const fn = `{urn: "urn:fss:r1:p1:function:default:f:latest", url: "https://fn.example/invoke"}`
	for _, c := range []struct {
		name, src, err string
	}{
		{"good", `topics:
  - name: security
    subscriptions:
      - {id: soc, protocol: https, endpoint: "https://soc.example/smn"}
      - {id: fn, protocol: function, endpoint: "urn:fss:r1:p1:function:default:f:latest"}
functions:
  - ` + fn + `
groups:
  admin: [alice]
`, ""},
		{"empty", ``, ""},
		{"unknown key", "topic: []\n", "field topic not found"},
		{"bad name", "topics: [{name: 'a b'}]\n", `topic name "a b"`},
		{"twice", "topics: [{name: a}, {name: a}]\n", "declared twice"},
		{"bad protocol", "topics: [{name: a, subscriptions: [{id: s, protocol: smtp, endpoint: x}]}]\n", `protocol "smtp"`},
		{"scheme differs", "topics: [{name: a, subscriptions: [{id: s, protocol: https, endpoint: 'http://x'}]}]\n", "absolute https:// URL"},
		{"bad id", "topics: [{name: a, subscriptions: [{id: S, protocol: https, endpoint: 'https://x'}]}]\n", `id "S"`},
		{"id twice", "topics: [{name: a, subscriptions: [{id: s, protocol: https, endpoint: 'https://x'}, {id: s, protocol: https, endpoint: 'https://y'}]}]\n", "given twice"},
		{"unknown function", "topics: [{name: a, subscriptions: [{id: s, protocol: function, endpoint: 'urn:fss:nope'}]}]\n", "no such function URN"},
		{"function secret", "functions: [" + fn + "]\ntopics: [{name: a, subscriptions: [{id: s, protocol: function, secret: x, endpoint: 'urn:fss:r1:p1:function:default:f:latest'}]}]\n", "http and https subscriptions only"},
		{"function not fss", "functions: [{urn: 'urn:x', url: 'https://x'}]\n", `urn "urn:x"`},
		{"function bad settings", "functions: [{urn: 'urn:fss:a', url: 'https://x', command: [a]}]\n", "function urn:fss:a"},
		{"function twice", "functions: [" + fn + ", " + fn + "]\n", "declared twice"},
		{"secret too short", "topics: [{name: a, subscriptions: [{id: s, protocol: https, endpoint: 'https://x', secret: '***'}]}]\n", "subscription s"},
		{"empty group", "groups: {admin: []}\n", `group "admin"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "topics.yaml")
			if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := ReadFile(p)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), p)):
				t.Fatalf("error %v, want one naming %s and %q", err, p, c.err)
			case c.name == "good" && (len(f.Topics) != 1 || f.Topics[0].URN != "urn:smn:auditbus:default:security" || len(f.Functions) != 1 || len(f.Groups["admin"]) != 1):
				t.Fatalf("read %+v", f)
			}
		})
	}
}
