package rules

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from current output")

var testEnvVars = map[string]string{"OPS_SECRET": "s3cret", "PORT": "8080"}

func testLookup(name string) (string, bool) {
	v, ok := testEnvVars[name]
	return v, ok
}

// TestGolden pins the expr source every testdata rule compiles to, or the
// exact error list of files that are meant to be rejected.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := renderParse(ParseFile(filepath.Base(in), src, WithLookupEnv(testLookup)))
			compareGolden(t, strings.TrimSuffix(in, ".yaml")+".golden", got)
		})
	}
}

// compareGolden fails the test when got differs from the file at path, or
// rewrites the file under -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		t.Fatalf("missing golden file (run with -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func renderParse(rules []*Rule, err error) string {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "errors:\n%v\n", err)
		return b.String()
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "rule %s/%s enabled=%v at %s\n", r.Bus, r.Name, r.Enabled, r.Pos)
		for _, tg := range r.Targets {
			fmt.Fprintf(&b, "  target %s kind=%s at %s input=%q retry=%+v\n", tg.ID, tg.Kind, tg.Pos, tg.Input, tg.Retry)
		}
		fmt.Fprintf(&b, "%s\n\n", r.Expr())
	}
	return b.String()
}
