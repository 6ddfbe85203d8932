package rules

import (
	"bytes"
	"strings"
	"time"
)

// attribute scans one top-level member. sdk-go turns some attributes into
// typed values that NewEnv prints back (source and dataschema are URLs,
// time a timestamp, extensions may be numbers); the scan takes their JSON
// text only where that printing gives the text back, as it does for every
// event the router stored, and otherwise leaves the event to the slow path.
func (s *scanner) attribute(key string, c *fieldNode, serial uint32) error {
	if !attributeNamed(key) {
		return errSlow // sdk-go lower-cases, or drops, names the spec does not allow
	}
	switch key {
	case "data_base64":
		return errSlow
	case "data":
		s.st.dataKind = dataKindOf(s.buf[s.i:])
		return s.field(c, serial)
	}
	if c == nil && key != "datacontenttype" {
		return s.skip()
	}
	if s.peek() != '"' {
		return errSlow
	}
	v, err := s.str()
	if err != nil {
		return err
	}
	if key == "datacontenttype" {
		s.st.contentType = v
	}
	if c == nil {
		return nil
	}
	if !verbatim(key, v) || s.st.seen[c.id] == serial {
		return errSlow
	}
	s.st.seen[c.id] = serial
	if c.leaf && (v != "" || !omittedIfEmpty(key)) {
		s.st.add(c, value{kind: kString, str: v})
	}
	return nil
}

// attributeNamed reports whether key is a valid CloudEvents attribute name
// (lower-case letters and digits) or data_base64.
func attributeNamed(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return key == "data_base64"
		}
	}
	return true
}

func dataKindOf(rest []byte) byte {
	switch {
	case bytes.HasPrefix(rest, []byte(`""`)):
		return 'e'
	case len(rest) > 0 && rest[0] == '"':
		return '"'
	case len(rest) > 0 && rest[0] == '{':
		return 'o'
	}
	return 'v'
}

// omittedIfEmpty names the optional attributes NewEnv leaves out when empty.
func omittedIfEmpty(key string) bool {
	return key == "subject" || key == "datacontenttype" || key == "dataschema"
}

func verbatim(key, v string) bool {
	switch key {
	case "source", "dataschema":
		return uriVerbatim(v)
	case "time":
		return timeVerbatim(v)
	}
	return true
}

// uriVerbatim accepts the URI references net/url prints back unchanged:
// unreserved characters, '/' and ':', with a lower-case scheme that is not
// followed by a lone '/'. Anything else (escapes, queries, user info,
// upper-case schemes) is rare enough to decode in full.
func uriVerbatim(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == ':') {
			return false
		}
	}
	scheme, rest, found := strings.Cut(v, ":")
	if !found {
		return true
	}
	for i := 0; i < len(scheme); i++ {
		if c := scheme[i]; c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//")
}

// timeVerbatim accepts the form NewEnv prints: RFC 3339 in UTC with the
// shortest fraction.
func timeVerbatim(v string) bool {
	if !strings.HasSuffix(v, "Z") {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return false
	}
	var buf [40]byte
	return string(t.UTC().AppendFormat(buf[:0], time.RFC3339Nano)) == v
}
