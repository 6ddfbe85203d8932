package rules

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// unquote appends the decoded form of a JSON string body (without its
// quotes) to dst, exactly as encoding/json decodes it: invalid UTF-8 bytes
// and unpaired surrogates become U+FFFD. ok is false for invalid escapes
// or raw control characters, which encoding/json rejects.
func unquote(dst, raw []byte) (out []byte, ok bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			var n int
			if dst, n = unescape(dst, raw[i:]); n == 0 {
				return dst, false
			}
			i += n
		case c < 0x20:
			return dst, false
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, unicode.ReplacementChar)
			} else {
				dst = append(dst, raw[i:i+size]...)
			}
			i += size
		}
	}
	return dst, true
}

// unescape decodes the escape at the start of s, returning how many bytes
// it used (0 if invalid).
func unescape(dst, s []byte) ([]byte, int) {
	if len(s) < 2 {
		return dst, 0
	}
	switch s[1] {
	case '"', '\\', '/':
		return append(dst, s[1]), 2
	case 'b':
		return append(dst, '\b'), 2
	case 'f':
		return append(dst, '\f'), 2
	case 'n':
		return append(dst, '\n'), 2
	case 'r':
		return append(dst, '\r'), 2
	case 't':
		return append(dst, '\t'), 2
	case 'u':
		r := hex4(s[2:])
		if r < 0 {
			return dst, 0
		}
		if utf16.IsSurrogate(r) {
			if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
				if pair := utf16.DecodeRune(r, hex4(s[8:])); pair != unicode.ReplacementChar {
					return utf8.AppendRune(dst, pair), 12
				}
			}
			r = unicode.ReplacementChar
		}
		return utf8.AppendRune(dst, r), 6
	}
	return dst, 0
}

// hex4 decodes four hex digits, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
