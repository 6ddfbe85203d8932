package rules

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// attribute scans one top-level member. sdk-go decodes attributes with
// its own JSON reader and turns some into typed values that NewEnv prints
// back (source and dataschema are URLs, time a timestamp, extensions may be
// numbers); the scan takes their JSON text only where that gives the same
// text, as it does for every event the router stored, and otherwise leaves
// the event to the slow path.
func (s *scanner) attribute(key string, c *fieldNode, serial uint32) error {
	if !attributeNamed(key) {
		return errSlow // sdk-go lower-cases, or drops, names the spec does not allow
	}
	switch key {
	case "data_base64":
		return errSlow
	case "data":
		return s.data(c, serial)
	case "specversion", "datacontenttype":
	default:
		if c == nil {
			return s.skip()
		}
	}
	if s.peek() != '"' {
		if c != nil && !coreAttribute[key] {
			return s.extension(c, serial)
		}
		return errSlow
	}
	start := s.i
	v, err := s.str()
	if err != nil {
		return err
	}
	if !readerAgrees(s.buf[start+1 : s.i-1]) {
		return errSlow
	}
	switch key {
	case "specversion":
		if v != "1.0" {
			return errSlow // 0.3 names and decodes attributes differently
		}
		s.st.specversion = true
	case "datacontenttype":
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

// coreAttribute names the CloudEvents 1.0 attributes; every other
// top-level member is an extension.
var coreAttribute = map[string]bool{"specversion": true, "id": true, "source": true, "type": true,
	"subject": true, "time": true, "datacontenttype": true, "dataschema": true}

// extension records a non-string extension value as sdk-go keeps it:
// booleans as they are, integers as int32. Anything else (fractions,
// which sdk-go truncates, out-of-range numbers, null, which deletes the
// extension) takes the slow path.
func (s *scanner) extension(c *fieldNode, serial uint32) error {
	if s.st.seen[c.id] == serial {
		return errSlow
	}
	s.st.seen[c.id] = serial
	var v value
	switch c := s.peek(); {
	case c == 't' || c == 'f':
		lit, err := s.literal()
		if err != nil {
			return err
		}
		v = lit
	case c != '-' && (c < '0' || c > '9'):
		return errSlow
	default:
		start := s.i
		if _, err := s.number(); err != nil {
			return err
		}
		n, err := strconv.ParseInt(bytesString(s.buf[start:s.i]), 10, 32)
		if err != nil {
			return errSlow
		}
		v = value{kind: kNumber, num: float64(n)}
	}
	if c.leaf {
		s.st.add(c, v)
	}
	return nil
}

// readerAgrees reports whether sdk-go's JSON reader decodes the string body
// raw as encoding/json does: it keeps invalid UTF-8 as it is and pairs
// surrogate escapes differently, so those differ.
func readerAgrees(raw []byte) bool {
	ascii := true
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\\':
			if i+2 < len(raw) && raw[i+1] == 'u' && (raw[i+2]|0x20) == 'd' {
				return false // \uD...: a surrogate, or close enough to decode in full
			}
			i++
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return ascii || utf8.Valid(raw)
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

// omittedIfEmpty names the optional attributes NewEnv leaves out when empty.
func omittedIfEmpty(key string) bool {
	return key == "subject" || key == "datacontenttype" || key == "dataschema"
}

func verbatim(key, v string) bool {
	switch key {
	case "source":
		return uriVerbatim(v)
	case "dataschema":
		// sdk-go drops a dataschema net/url rejects (a bad source fails the
		// event instead); rules rarely read it, so ask net/url itself.
		u, err := url.Parse(v)
		return err == nil && u.String() == v
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
	// net/url prints "x:/a" as "x:///a" and "x://" as "x:".
	return !strings.HasPrefix(rest, "/") || (strings.HasPrefix(rest, "//") && rest != "//")
}

// timeVerbatim accepts the form NewEnv prints: RFC 3339 in UTC with the
// shortest fraction.
func timeVerbatim(v string) bool {
	if !strings.HasSuffix(v, "Z") {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || t.IsZero() {
		return false // NewEnv leaves the zero time out
	}
	var buf [40]byte
	return string(t.UTC().AppendFormat(buf[:0], time.RFC3339Nano)) == v
}
