package doccheck

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the blocks as "line info marker |text|", one per line
		err       string
	}{
		{"unmarked", "text\n```sh\necho hi\n```\n", "2 sh <no marker> |echo hi\n|", ""},
		{"marked", "<!-- run -->\n```sh\necho hi\n```\n", "2 sh <!-- run --> |echo hi\n|", ""},
		{"marker with args", "<!-- test:  router  TestX/a -->\n~~~\nx\n~~~\n", "2  <!-- test: router TestX/a --> |x\n|", ""},
		{"marker must be just above", "<!-- run -->\n\n```sh\nx\n```\n", "3 sh <no marker> |x\n|", ""},
		{"indented, in a list", "1. item\n   <!-- check: json -->\n   ```json\n   {\"a\": 1}\n   ```\n", "3 json <!-- check: json --> |{\"a\": 1}\n|", ""},
		{"longer fence holds a shorter one", "````md\n```sh\nx\n```\n````\n", "1 md <no marker> |```sh\nx\n```\n|", ""},
		{"empty block", "```\n```\n", "1  <no marker> ||", ""},
		{"two blocks", "```a\n1\n```\n<!-- figure -->\n```b\n2\n```\n", "1 a <no marker> |1\n|\n5 b <!-- figure --> |2\n|", ""},
		{"never closed", "text\n```sh\nx\n", "", "doc.md:2: code block never closed"},
		{"marker over two lines", "<!-- run\n-->\n```sh\nx\n```\n", "3 sh <no marker> |x\n|", ""},
		{"marker without its end", "<!-- run\n```sh\nx\n```\n", "", "doc.md:1: a marker must fit on one line"},
		{"empty marker", "<!-- -->\n```sh\nx\n```\n", "", "want <!-- kind -->"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks, err := Parse("doc.md", []byte(tt.src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range blocks {
				m := "<no marker>"
				if b.Marker.Kind != "" {
					m = b.Marker.String()
				}
				got = append(got, fmt.Sprintf("%d %s %s |%s|", b.Line, b.Info, m, b.Text))
			}
			if g := strings.Join(got, "\n"); g != tt.want {
				t.Errorf("got\n%s\nwant\n%s", g, tt.want)
			}
		})
	}
}

// fatalTB records Fatal instead of stopping the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper()                   {}
func (f *fatalTB) Fatal(args ...any)         { f.msg = fmt.Sprint(args...) }
func (f *fatalTB) Fatalf(s string, a ...any) { f.msg = fmt.Sprintf(s, a...) }

func TestRead(t *testing.T) {
	if got := Read(t, "testdata/doc.md", "TestRead"); got != "echo mine\n" {
		t.Errorf("Read = %q", got)
	}
	for key, want := range map[string]string{
		"TestRead/theirs": "names package router, but package internal/doccheck reads the block",
		"TestRead/none":   "has no block marked <!-- test: PKG TestRead/none -->",
	} {
		f := &fatalTB{TB: t}
		Read(f, "testdata/doc.md", key)
		if !strings.Contains(f.msg, want) {
			t.Errorf("Read(%s) failed with %q, want %q", key, f.msg, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("<!-- run -->\n```sh\necho\n```\n"))
	f.Add([]byte("   ~~~~ x\n~~~\n   ~~~~\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		blocks, err := Parse("f.md", src)
		if err != nil {
			return
		}
		lines := strings.Count(string(src), "\n") + 1
		for _, b := range blocks {
			if b.Line < 1 || b.Line > lines || (b.Marker.Kind != "" && b.Marker.Line != b.Line-1) {
				t.Fatalf("block at line %d (marker at %d) of a %d-line document", b.Line, b.Marker.Line, lines)
			}
		}
	})
}

func TestElidedJSON(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{`{"a": 1, ...}`, `map[a:1]`, ""},
		{`{..., "a": [1, ...]}`, `map[a:[1]]`, ""},
		{`{"a": ..., "b": "x ... y"}`, `map[a:<nil> b:x ... y]`, ""},
		{`{"a": "say \"...\"", "b": ...}`, `map[a:say "..." b:<nil>]`, ""},
		{`{"a": 1,, "b": 2}`, "", "not JSON"},
		{`{"a": 1} {"b": 2}`, "", "more than one"},
	} {
		v, err := ElidedJSON(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case fmt.Sprint(v) != tt.want:
			t.Errorf("%s = %v, want %s", tt.in, v, tt.want)
		}
	}
}
