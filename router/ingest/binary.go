package ingest

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
)

// decodeBinary reads a binary-mode request: attributes in ce-* headers,
// datacontenttype in Content-Type, data in the body. It does not use
// sdk-go's HTTP binding, which neither percent-decodes header values, nor
// rejects upper case or repeated headers, nor lowercases more than the
// first letter of a name.
func decodeBinary(h http.Header, body []byte) (event.Event, error) {
	attrs, err := binaryAttributes(h)
	if err != nil {
		return event.Event{}, err
	}
	if err := contentTypeAttribute(h, attrs); err != nil {
		return event.Event{}, err
	}
	ctx, err := newContext(mapAttrSource(attrs))
	if err != nil {
		return event.Event{}, err
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		if isContextAttribute(name) {
			continue
		}
		// Headers carry no type information, so extensions stay strings.
		if err := setExtension(ctx, name, attrs[name]); err != nil {
			return event.Event{}, err
		}
	}
	e := event.Event{Context: ctx}
	if err := setBinaryData(&e, ctx, body); err != nil {
		return event.Event{}, err
	}
	return e, Validate(&e)
}

// binaryAttributes collects the ce-* headers. Keys are visited sorted so
// that, of several problems, the same one is always reported.
func binaryAttributes(h http.Header) (map[string]string, error) {
	attrs := make(map[string]string, len(h))
	for _, key := range slices.Sorted(maps.Keys(h)) {
		lower := strings.ToLower(key)
		name, ok := strings.CutPrefix(lower, "ce-")
		if !ok || len(h[key]) == 0 {
			continue
		}
		if err := checkHeaderName(name); err != nil {
			return nil, err
		}
		if _, dup := attrs[name]; dup || len(h[key]) > 1 {
			return nil, invalid(name, "header ce-%s is repeated; each attribute must be sent exactly once", name)
		}
		v, err := unquote(name, h[key][0])
		if err != nil {
			return nil, err
		}
		if v, err = percentDecode(name, v); err != nil {
			return nil, err
		}
		attrs[name] = v
	}
	return attrs, nil
}

func checkHeaderName(name string) error {
	switch name {
	case "datacontenttype":
		return invalid(name, "binary mode carries the data's media type in Content-Type, not in a ce-datacontenttype header")
	case "data":
		return invalid(name, "binary mode carries data in the body, not in a ce-data header")
	}
	return checkName(name)
}

func contentTypeAttribute(h http.Header, attrs map[string]string) error {
	switch cts := h.Values("Content-Type"); {
	case len(cts) > 1:
		return invalid("datacontenttype", "the Content-Type header is repeated")
	case len(cts) == 1 && cts[0] != "":
		attrs["datacontenttype"] = cts[0]
	}
	return nil
}

func mapAttrSource(attrs map[string]string) attrSource {
	return func(name string) (string, bool, error) {
		v, ok := attrs[name]
		return v, ok, nil
	}
}

// unquote undoes RFC 7230 quoted-string escaping, which the HTTP binding
// says a receiver applies before percent-decoding: a value that opens with
// '"' is one quoted-string, `"hello world"` -> `hello world`, `"a\"b"` ->
// `a"b`. Other values are returned as they are. A quoted-string that is not
// closed, or is followed by more text, is refused rather than guessed at.
func unquote(name, s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			if i != len(s)-1 {
				return "", newError(ErrMalformed, name, "header value has text after its closing double quote at byte %d; send one quoted-string or percent-encode the quotes (%%22)", i)
			}
			return b.String(), nil
		case c == '\\':
			if i+1 >= len(s) || !quotable(s[i+1]) {
				return "", newError(ErrMalformed, name, "header value has a backslash at byte %d that escapes nothing a quoted-string can hold", i)
			}
			i++
			b.WriteByte(s[i])
		case !quotable(c):
			return "", newError(ErrMalformed, name, "header value holds byte 0x%02x at byte %d, which a quoted-string cannot", c, i)
		default:
			b.WriteByte(c)
		}
	}
	return "", newError(ErrMalformed, name, "header value opens a quoted-string that is never closed; percent-encode a leading double quote (%%22)")
}

// quotable is what a quoted-string may hold, escaped or not: HTAB, SP,
// visible ASCII and obs-text (bytes of UTF-8 beyond ASCII).
func quotable(c byte) bool {
	return c == '\t' || c >= 0x20 && c != 0x7f
}

// percentDecode undoes the HTTP binding's encoding of header values
// (RFC 3986 percent-encoding of the UTF-8 bytes); the result must be
// UTF-8, as every CloudEvents string is.
func percentDecode(name, s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return checkUTF8Header(name, s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", newError(ErrMalformed, name, "header value has an invalid percent-encoding at byte %d: '%%' must be followed by two hex digits", i)
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return checkUTF8Header(name, b.String())
}

func checkUTF8Header(name, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", newError(ErrMalformed, name, "header value is not valid UTF-8 after percent-decoding")
	}
	return s, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
