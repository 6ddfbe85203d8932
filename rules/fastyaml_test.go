package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/rules/rulestest"
)

// agreeFast fails t if fastDocument accepts src (one document) and its
// nodes differ from yaml.v3's, comments aside. It reports whether
// fastDocument accepted src.
func agreeFast(t *testing.T, src []byte) bool {
	t.Helper()
	got, ok := fastDocument(src, 0, interner{}, &nodeArena{})
	if !ok {
		return false
	}
	var want []*yaml.Node
	if err := decodeStream(src, func(d *yaml.Node) { want = append(want, d) }); err != nil {
		t.Fatalf("fastDocument accepted %q, which yaml.v3 refuses: %v", src, err)
	}
	if len(want) != 1 {
		t.Fatalf("fastDocument accepted %q as one document, yaml.v3 reads %d", src, len(want))
	}
	dropComments(want[0], 0)
	if !reflect.DeepEqual(got, want[0]) {
		t.Fatalf("fastDocument reads %q differently from yaml.v3:\n got %s\nwant %s", src, dumpNode(got), dumpNode(want[0]))
	}
	return true
}

func dumpNode(n *yaml.Node) string {
	var b bytes.Buffer
	var walk func(*yaml.Node, string)
	walk = func(n *yaml.Node, in string) {
		b.WriteString(in)
		b.WriteString(yamlNodeLine(n))
		for _, c := range n.Content {
			walk(c, in+"  ")
		}
	}
	walk(n, "\n")
	return b.String()
}

func yamlNodeLine(n *yaml.Node) string {
	return n.Tag + " " + string(rune('0'+n.Kind)) + " style=" + string(rune('0'+n.Style)) + " " +
		n.Value + " @" + itoa(n.Line) + ":" + itoa(n.Column)
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// TestFastDocumentAgreesWithYAML: the documents rule files are made of
// read as yaml.v3 reads them, and what the subset leaves out is refused.
func TestFastDocumentAgreesWithYAML(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		accept bool
	}{
		{"rule", "name: a\npattern:\n  type: [\"x\", 'y']\n  data: {errorCode: [0], n: [{numeric: [\">\", 1.5]}]}\ntargets:\n  - id: log\n    log: {}\n", true},
		{"explicit start", "---\n# c\nname: a # trailing\ntargets:\n- id: x\n  log: {}\n", true},
		{"nested sequences", "a:\n  - - x\n    - y\n  - z\n", true},
		{"item below dash", "a:\n  -\n    b: c\n", true},
		{"quotes and escapes", "a: 'it''s'\nb: \"q\\\"\\\\ \\n\\t\"\nc: \"#not\"\n", true},
		{"plain with colons", "s: qcs::cvm:ap-guangzhou:uin/1:instance/ins-1\nu: a#b\n", true},
		{"scalars", "a: true\nb: null\nc: ~\nd: 12\ne: 0\nf: 3.25\ng: TRUE\n", true},
		{"non-ASCII", "description: 删除集群 的 事件\nb: [\"é\", x]\n", true},
		{"empty flow", "a: []\nb: {}\nc: [ ]\n", true},
		{"indented root", "  a: 1\n  b: 2\n", true},
		{"flow with spaces", "a: [ x y , {k: v} ]\n", true},
		{"multi-line plain", "a: b\n  c\n", false},
		{"multi-line flow", "a: [x,\n  y]\n", false},
		{"block scalar", "a: |\n  x\n", false},
		{"anchor", "a: &x 1\nb: *x\n", false},
		{"tag", "a: !!str 1\n", false},
		{"null value", "a:\nb: 1\n", false},
		{"octal-looking", "a: 012\n", false},
		{"sign", "a: -1\nb: +1\n", false},
		{"exponent", "a: 1e3\n", false},
		{"timestamp", "a: 2001-12-14\n", false},
		{"merge key", "<<: {a: 1}\n", false},
		{"tab", "a:\t1\n", false},
		{"complex key", "? a\n: b\n", false},
		{"colon in value", "a: b: c\n", false},
		{"trailing comma", "a: [x, ]\n", false},
		{"unicode escape", "a: \"\\u00e9\"\n", false},
		{"slash escape", "a: \"\\/\"\n", false},
		{"document end", "a: 1\n...\n", false},
		{"scalar root", "hello\n", false},
		{"bad indentation", "a:\n    b: 1\n  c: 2\n", false},
		{"comment without space", "a: \"x\"#c\n", false},
		{"empty", "# only a comment\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := agreeFast(t, []byte(tc.src)); got != tc.accept {
				t.Errorf("fastDocument accepted: %v, want %v", got, tc.accept)
			}
		})
	}
}

// TestFastDocumentReadsRuleFiles: every document of the examples, the
// test data and generated rules is read by fastDocument as by yaml.v3,
// and the generated ones are all in the subset (the load figures rely
// on it).
func TestFastDocumentReadsRuleFiles(t *testing.T) {
	files, _ := filepath.Glob("../examples/rules/*.yaml")
	more, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("found only %d rule files", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range documentTexts(src) {
			agreeFast(t, doc)
		}
	}
	for i, doc := range documentTexts(rulestest.Rules(2000, 7)) {
		if !agreeFast(t, doc) {
			t.Fatalf("generated document %d refused:\n%s", i, doc)
		}
	}
}

// documentTexts cuts src where decodeChunk does.
func documentTexts(src []byte) [][]byte {
	var out [][]byte
	for start := 0; start < len(src); {
		end := nextDocumentStart(src, start+1)
		if end < 0 {
			end = len(src)
		}
		out = append(out, src[start:end])
		start = end
	}
	return out
}

// FuzzFastDocument holds fastDocument to yaml.v3 on any document it
// accepts.
func FuzzFastDocument(f *testing.F) {
	for _, doc := range documentTexts(rulestest.Rules(200, 3)) {
		f.Add(doc)
	}
	f.Add([]byte("a: [x, {k: 'v''w'}]\nb:\n- c: \"d\\n\" # e\n  f: 1.5\n"))
	f.Add([]byte("yes: [on, off, y, No, NULL, nULL, tRUE, ~, 0, 12.50, 123456789012345678]\nkey : v\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		agreeFast(t, src)
	})
}
