package rules

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/rules/rulestest"
)

// decodeBoth decodes src as one stream and cut into chunks of size bytes,
// reporting any difference in the documents or the error.
func decodeBoth(t *testing.T, src []byte, size int) (chunks int) {
	t.Helper()
	var want, got []*yaml.Node
	wantErr := decodeStream(src, func(d *yaml.Node) { want = append(want, d) })
	gotErr := eachDocumentChunked(src, size, func(d *yaml.Node) { got = append(got, d) }, func() { got = nil })
	if errString(gotErr) != errString(wantErr) {
		t.Fatalf("error %v, the stream's is %v", gotErr, wantErr)
	}
	if len(got) != len(want) {
		t.Fatalf("%d documents, the stream has %d", len(got), len(want))
	}
	for i := range want {
		dropComments(got[i], 0)
		dropComments(want[i], 0)
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("document %d (line %d) differs from the stream's (line %d)", i, got[i].Line, want[i].Line)
		}
	}
	return len(splitDocuments(src, size))
}

// dropComments clears the comments of n and below: a comment between two
// documents is the foot of one in a chunk and the head of the next in the
// stream, and nothing that loads rules reads comments.
func dropComments(n *yaml.Node, depth int) {
	if depth > 100 {
		return
	}
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		dropComments(c, depth+1)
	}
	if n.Alias != nil {
		dropComments(n.Alias, depth+1)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestEachDocumentAgreesWithStream: decoding a file in chunks gives the
// stream decoder's documents (lines included) and errors, also where a
// chunk alone reads differently and the stream must take over.
func TestEachDocumentAgreesWithStream(t *testing.T) {
	doc := func(i int) string { return "name: r" + strings.Repeat("x", i%7) + "\npattern: {type: [a]}\n" }
	many := func(sep string, n int, extra func(i int) string) []byte {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(doc(i) + extra(i))
		}
		return []byte(b.String())
	}
	none := func(int) string { return "" }
	for _, tc := range []struct {
		name  string
		src   []byte
		split bool // whether the file is cut at all
	}{
		{"generated", rulestest.Rules(300, 1), true},
		{"comments and ends", many("...\n# between\n---\n", 50, none), true},
		{"marker with content", many("--- # c\n", 50, none), true},
		{"block scalars", many("---\n", 50, func(int) string { return "description: |\n  ---x\n  text\n" }), true},
		{"empty documents", many("---\n---\n", 50, none), true},
		{"alias of an earlier document", many("---\n", 50, func(i int) string {
			if i == 0 {
				return "targets: &t [{id: out, log: {}}]\n"
			}
			return "targets: *t\n"
		}), true},
		{"syntax error late", many("---\n", 50, func(i int) string {
			if i == 40 {
				return "bad: [\n"
			}
			return ""
		}), true},
		{"quoted scalar across a marker", many("---\n", 50, func(i int) string {
			if i == 30 {
				return "description: \"open\n"
			}
			return ""
		}), true},
		{"directive", many("---\n", 50, func(i int) string {
			if i == 20 {
				return "...\n%YAML 1.1\n"
			}
			return ""
		}), true},
		{"crlf", []byte(strings.ReplaceAll(string(many("---\n", 50, none)), "\n", "\r\n")), true},
		{"lone cr", []byte(strings.ReplaceAll(string(many("---\n", 50, none)), "pattern", "\rpattern")), false},
		{"line separator", many("---\n", 50, func(int) string { return "description: \"a\u2028b\"\n" }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if chunks := decodeBoth(t, tc.src, 256); (chunks > 1) != tc.split {
				t.Errorf("cut into %d chunks, want cut: %v", chunks, tc.split)
			}
		})
	}
}

// FuzzDocuments holds chunked decoding to the stream's on any input, cut
// as finely as possible.
func FuzzDocuments(f *testing.F) {
	f.Add([]byte("a: 1\n---\nb: &x 2\n---\nc: *x\n"))
	f.Add([]byte("---\n\"a\n---\nb\"\n...\n%YAML 1.1\n---\nc: [\n"))
	f.Add([]byte("--- |\n  x\n--- >\n y\n---\t#\n---"))
	f.Fuzz(func(t *testing.T, src []byte) {
		decodeBoth(t, src, 1)
	})
}
