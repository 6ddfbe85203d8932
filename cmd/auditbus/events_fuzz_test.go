package main

import (
	"bytes"
	"testing"
)

// FuzzSplitJSON: splitJSON never panics, and each value it returns is the
// input's own bytes at its offset, so the line:column printed for it
// points at the value; positions are never below 1:1.
func FuzzSplitJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "[\n {\"a\":1},\n {\"b\":[2]}\n]", "{}\n{}\n", `[1]`, `{"a" 1}`, "[\n{},\n{\"x\" 1}]", ``, `  [ ]  {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		vals, err := splitJSON(src)
		if err != nil {
			if p := positioned("f", src, err).Error(); bytes.Contains([]byte(p), []byte("f:0:")) {
				t.Fatalf("0-based position: %s", p)
			}
			return
		}
		for _, v := range vals {
			if v.offset < 0 || int(v.offset)+len(v.raw) > len(src) || !bytes.Equal(src[v.offset:int(v.offset)+len(v.raw)], v.raw) {
				t.Fatalf("value %q not at offset %d of %q", v.raw, v.offset, src)
			}
			if line, col := textPosition(src, v.offset); line < 1 || col < 1 {
				t.Fatalf("position %d:%d", line, col)
			}
		}
	})
}
