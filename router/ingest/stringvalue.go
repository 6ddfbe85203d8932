package ingest

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// stringValue is json.Unmarshal of a JSON string value that a JSON reader
// already accepted (the members of an event object), without its cost for
// the common string, one without escapes whose bytes are valid UTF-8:
// then the value is the bytes between the quotes, as json.Unmarshal would
// give. Anything else goes through json.Unmarshal, which decodes escapes
// and replaces invalid UTF-8 as it always did.
func stringValue(raw []byte) (string, error) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		if noControl(raw[1 : n-1]) {
			return string(raw[1 : n-1]), nil
		}
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// noControl reports whether b holds no control character, which JSON
// strings may not hold unescaped.
func noControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return false
		}
	}
	return true
}
