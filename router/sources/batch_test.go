package sources

import "testing"

func TestRecordsShapes(t *testing.T) {
	tests := []struct {
		name, body, wrapper string
		want                int
	}{
		{"object", `{"a":1}`, "", 1},
		{"array", `[{"a":1},{"a":2}]`, "", 2},
		{"ndjson", "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", "", 3},
		{"wrapper alone", `{"traces":[{"a":1},{"a":2}]}`, "traces", 2},
		{"wrapper beside paging metadata", `{"meta_data":{"count":2,"marker":"x"},"traces":[{"a":1},{"a":2}]}`, "traces", 2},
		{"wrapper key not an array is a record", `{"traces":"x"}`, "traces", 1},
	}
	for _, tt := range tests {
		recs, err := Records([]byte(tt.body), tt.wrapper)
		if err != nil || len(recs) != tt.want {
			t.Errorf("%s: %d records, %v; want %d", tt.name, len(recs), err, tt.want)
		}
	}
	for _, bad := range []string{"", "  ", "{", `[{"a":1},`, "{} x"} {
		if _, err := Records([]byte(bad), ""); err == nil {
			t.Errorf("Records(%q) accepted", bad)
		}
	}
}
