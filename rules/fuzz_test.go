package rules

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseFile checks that no rule file, however malformed, panics the
// loader, and that whatever loads can be matched without panicking.
func FuzzParseFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		src, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	env := NewEnv(tkeEvent(f, map[string]any{
		"eventName": "DeleteCluster", "errorCode": 0, "tags": []any{"a", 1.5, nil, []any{"b"}},
		"userIdentity": map[string]any{"type": "CAMUser"},
	}))
	f.Fuzz(func(t *testing.T, src []byte) {
		rules, err := ParseFile("fuzz.yaml", src, WithLookupEnv(testLookup))
		if err != nil {
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error is %T, want Errors", err)
			}
			return
		}
		for _, r := range rules {
			_, _ = r.Match(env)
			for _, tg := range r.Targets {
				_, _ = r.Input(tg.ID, env)
			}
		}
	})
}
