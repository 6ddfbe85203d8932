package sinks

import (
	"encoding/json"
	"testing"
)

// TestJSONSafeMatchesEncodingJSON: the string signed is the one a receiver
// decodes, even when the content is not valid UTF-8.
func TestJSONSafeMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"plain", "naïve ✓", "bad \xff byte", "run \xff\xfe\xfd of bad bytes", "cut \xe2\x9c", "\xed\xa0\x80 surrogate", "already \uFFFD"} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var decoded string
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		if got := jsonSafe(s); got != decoded {
			t.Errorf("jsonSafe(%q) = %q, receivers decode %q", s, got, decoded)
		}
	}
}
