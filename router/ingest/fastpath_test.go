package ingest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// fastSeeds add what the scanner must get right to the fuzz seeds:
// escapes in keys and strings, nesting, whitespace everywhere, numbers
// at the end of objects, duplicates spelled differently, many keys.
var fastSeeds = []string{
	` { "specversion" : "1.0" , "id" : "1" , "source" : "s" , "type" : "t" , "n" : 12 } `,
	`{"specversion":"1.0","\u0069d":"1","source":"s","type":"t"}`,
	`{"specversion":"1.0","id":"1","\u0069d":"2","source":"s","type":"t"}`,
	`{"specversion":"1.0","id":"a\"b\\\\","source":"s","type":"t","data":{"x":["]","}",{"y":"\"{"}],"z":-1.5e3}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data":[1,[2,[3]],{}],"b":true}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data":"x\u00e9\ud83d\ude00"}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data":1e400}`,
	manyKeys(40, false), manyKeys(40, true),
}

func manyKeys(n int, dup bool) string {
	var b strings.Builder
	b.WriteString(`{"specversion":"1.0","id":"1","source":"s","type":"t"`)
	for i := range n {
		fmt.Fprintf(&b, `,"x%d":"v"`, i)
	}
	if dup {
		b.WriteString(`,"x3":"w"`)
	}
	b.WriteString("}")
	return b.String()
}

// sameEvents compares events as the bus stores them.
func sameEvents(t *testing.T, fast, strict []event.Event) {
	t.Helper()
	if len(fast) != len(strict) {
		t.Fatalf("fast path decoded %d events, strict reader %d", len(fast), len(strict))
	}
	for i := range fast {
		var a, b bytes.Buffer
		if err := event.WriteJson(&fast[i], &a); err != nil {
			t.Fatal(err)
		}
		if err := event.WriteJson(&strict[i], &b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("event %d differs:\nfast   %s\nstrict %s", i, a.Bytes(), b.Bytes())
		}
	}
}

// checkFastPath: whatever the fast path accepts, the strict reader accepts
// as the same events; whatever the strict reader rejects, the fast path
// rejects too (and leaves to it).
func checkFastPath(t *testing.T, b []byte) {
	t.Helper()
	if e, ok := decodeStructuredFast(b); ok {
		s, err := decodeStructuredStrict(b)
		if err != nil {
			t.Fatalf("fast path accepted what the strict reader rejects (%v): %q", err, b)
		}
		sameEvents(t, []event.Event{e}, []event.Event{s})
	} else if _, err := decodeStructuredStrict(b); err == nil && !bytes.Contains(b, []byte(`\`)) {
		// Refusing is always safe; but a plain valid event should be fast.
		t.Errorf("fast path refused a valid event: %q", b)
	}
	if events, ok := decodeBatchFast(b); ok {
		s, err := decodeBatchStrict(b)
		if err != nil {
			t.Fatalf("fast path accepted a batch the strict reader rejects (%v): %q", err, b)
		}
		sameEvents(t, events, s)
	}
}

func fastInputs(t testing.TB) [][]byte {
	var in [][]byte
	for _, s := range append(append([]string{}, fuzzSeeds...), fastSeeds...) {
		in = append(in, []byte(s), []byte("["+s+"]"), []byte("[ "+s+" ,\n"+s+" ]"))
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "events", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, b, append(append([]byte("["), b...), ']'))
	}
	return in
}

func TestFastPathAgreesWithStrictReader(t *testing.T) {
	for _, b := range fastInputs(t) {
		checkFastPath(t, b)
	}
}

func FuzzFastPath(f *testing.F) {
	for _, b := range fastInputs(f) {
		f.Add(b)
	}
	f.Fuzz(checkFastPath)
}
