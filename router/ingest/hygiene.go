package ingest

import "strconv"

// Attribute values are refused, not cleaned, when they hold a control
// character: ids and subjects are what operators search for, a silently
// altered one matches nothing, and the same value may later be an HTTP or
// NATS header, where a control character cannot be sent at all (a
// binary-mode webhook would fail on every attempt).

// checkControl refuses a value holding a C0 control (U+0000-U+001F),
// DEL (U+007F) or a C1 control (U+0080-U+009F). s is valid UTF-8.
func checkControl(name, s string) error {
	for i, r := range s {
		if isControl(r) {
			return invalid(name, "contains the control character %U at byte %d; control characters (U+0000-U+001F, U+007F-U+009F) are not allowed in attribute values", r, i)
		}
	}
	return nil
}

func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// MaxDataDepth is how deeply JSON data may nest objects and arrays ("{}"
// is depth 1). Deeper data is refused at ingest: the router's own decoding
// of a stored event stops at 10,000 levels, and what it cannot read it
// cannot match or deliver. 100 leaves room for real audit records (a
// Kubernetes object with its managed fields, a CRD schema) many times over.
const MaxDataDepth = 100

// checkJSONData refuses JSON data the router could not process as sent:
// nesting deeper than MaxDataDepth, and numbers beyond the float64 range
// (every JSON consumer the router feeds, rules and input expressions
// included, reads numbers as float64, and 1e400 is not one). b is valid
// JSON; the scan does not depend on it.
func checkJSONData(attr string, b []byte) error {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			i = skipString(b, i)
		case c == '{' || c == '[':
			if depth++; depth > MaxDataDepth {
				return invalid(attr, "nests objects and arrays deeper than %d levels (at byte %d); flatten the data or send it as data_base64 with a non-JSON type", MaxDataDepth, i)
			}
		case c == '}' || c == ']':
			depth--
		case c == '-' || (c >= '0' && c <= '9'):
			end := numberEnd(b, i)
			if err := checkNumber(attr, b[i:end], i); err != nil {
				return err
			}
			i = end - 1
		}
	}
	return nil
}

// skipString returns the index of the quote closing the string at i.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return i
}

func numberEnd(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
		default:
			return i
		}
	}
	return i
}

// checkNumber parses only numbers that can be out of range: those with an
// exponent, or longer than 300 bytes (300 digits stay below 1e300).
func checkNumber(attr string, num []byte, at int) error {
	if len(num) <= 300 && !hasExponent(num) {
		return nil
	}
	if _, err := strconv.ParseFloat(string(num), 64); err != nil {
		return invalid(attr, "holds the number %s (at byte %d), outside the range of a 64-bit float, which is how rules and consumers read JSON numbers; send it as a string", Quote(string(num)), at)
	}
	return nil
}

func hasExponent(num []byte) bool {
	for _, c := range num {
		if c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}
