package ingest

import (
	"encoding/json"
	"testing"
)

// TestStringValue: stringValue gives what json.Unmarshal gives, for the
// strings it takes as written and those it leaves to json.Unmarshal.
func TestStringValue(t *testing.T) {
	for _, raw := range []string{`""`, `"abc"`, `"集群/cls-1"`, `"a\"b"`, `"\u00e9\n"`, "\"\xff\"", "\"a\tb\"", `"\ud83d"`} {
		var want string
		wantErr := json.Unmarshal([]byte(raw), &want)
		got, err := stringValue([]byte(raw))
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("stringValue(%q) = %q, %v; json.Unmarshal gives %q, %v", raw, got, err, want, wantErr)
		}
	}
}
