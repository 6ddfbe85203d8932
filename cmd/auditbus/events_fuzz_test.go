package main

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzSplitJSON: splitJSON never panics, and each value it returns is the
// input's own bytes at its offset, so the line:column printed for it
// points at the value; positions are never below 1:1, and the one-pass
// valuePositions agrees with textPosition.
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
		at := valuePositions("f", src, vals)
		for i, v := range vals {
			if line, col := textPosition(src, v.offset); at[i] != fmt.Sprintf("f:%d:%d", line, col) {
				t.Fatalf("value %d at %s, textPosition says %d:%d", i, at[i], line, col)
			}
			if v.offset < 0 || int(v.offset)+len(v.raw) > len(src) || !bytes.Equal(src[v.offset:int(v.offset)+len(v.raw)], v.raw) {
				t.Fatalf("value %q not at offset %d of %q", v.raw, v.offset, src)
			}
			if line, col := textPosition(src, v.offset); line < 1 || col < 1 {
				t.Fatalf("position %d:%d", line, col)
			}
		}
	})
}
