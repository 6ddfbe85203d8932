package sources

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// checkGolden compares events with the golden file, written in a stable
// form: keys sorted, numbers exact, HTML characters unescaped.
func checkGolden(t *testing.T, path string, events []event.Event) {
	t.Helper()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	normal := make([]any, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("event %d does not marshal: %v", i, err)
		}
		if normal[i], err = decodeStrict(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(normal); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, out.Bytes())
	}
}
