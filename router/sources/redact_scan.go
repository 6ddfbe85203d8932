package sources

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// unchanged reports whether redacting the JSON text s (at embed documents
// deep) would leave it as it is: s is strict JSON as decodeStrict reads
// it, and walk would find nothing to replace. It reads s once and builds
// no tree; it allocates only for strings holding escapes. false means
// "not proven": s may hold a secret or a key named twice, be refused, or
// hold something this scan leaves to the decoder (invalid UTF-8, a lone
// surrogate, more than maxScanKeys keys in one object). Callers then
// decode and walk, so every record is accepted, refused and redacted as
// the decoder decides; this only skips the decoding when that would
// change nothing.
//
// Its conditions are wider than walk's: any key that names a secret, a
// name/value pair's name or a command-line flag that does, and any
// Kubernetes Secret or object about secrets send the record to the
// decoder, whatever their values.
func (r *Redactor) unchanged(s string, embed int) bool {
	sc := scan{r: r, s: s, embed: embed}
	sc.space()
	if !sc.value(0) {
		return false
	}
	sc.space()
	return sc.pos == len(s)
}

// maxScanKeys bounds the keys of one object the scan checks for
// duplicates one by one; a larger object goes to the decoder.
const maxScanKeys = 64

// scan is one pass of unchanged over a JSON text.
type scan struct {
	r     *Redactor
	s     string
	pos   int
	embed int
	keys  []string // the keys of the objects being read, innermost last
}

func (sc *scan) space() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// value reads a value at depth (decodeValue's count).
func (sc *scan) value(depth int) bool {
	if depth > maxDepth || sc.pos >= len(sc.s) {
		return false
	}
	switch c := sc.s[sc.pos]; {
	case c == '{':
		return sc.object(depth)
	case c == '[':
		return sc.array(depth)
	case c == '"':
		v, ok := sc.str()
		return ok && sc.plain(v)
	case c == 't':
		return sc.literal("true")
	case c == 'f':
		return sc.literal("false")
	case c == 'n':
		return sc.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return sc.number()
	}
	return false
}

// plain reports whether walk leaves the string v as it is.
func (sc *scan) plain(v string) bool {
	_, changed := sc.r.embedded(v, sc.embed)
	return !changed
}

func (sc *scan) object(depth int) bool {
	sc.pos++ // {
	sc.space()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
		sc.pos++
		return true
	}
	first := len(sc.keys)
	defer func() { sc.keys = sc.keys[:first] }()
	for {
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
			return false
		}
		k, ok := sc.str()
		if !ok || len(sc.keys)-first >= maxScanKeys || contains(sc.keys[first:], k) {
			return false
		}
		sc.keys = append(sc.keys, k)
		nk := NormalKey(k)
		if sc.r.keys.secretNormal(nk) {
			return false
		}
		sc.space()
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != ':' {
			return false
		}
		sc.pos++
		sc.space()
		if !sc.member(depth+1, k, nk) {
			return false
		}
		if more, ok := sc.next('}'); !more {
			return ok
		}
	}
}

// member reads the value of key k (nk folded). A string value is also
// tested as secretPair and secretValues would test it.
func (sc *scan) member(depth int, k, nk string) bool {
	if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
		return sc.value(depth)
	}
	if depth > maxDepth {
		return false
	}
	v, ok := sc.str()
	switch {
	case !ok:
		return false
	case isOneOf(nk, pairNames) && sc.r.keys.secret(v):
		return false // a name/value pair naming a secret
	case strings.EqualFold(k, "kind") && (v == "Secret" || v == "SecretList"):
		return false
	case strings.EqualFold(k, "resource") && v == "secrets":
		return false // maybe an audit event's objectRef
	}
	return sc.plain(v)
}

// next reads what follows a member or an element: a comma (more to
// come) or the container's close (done, ok); anything else is not JSON the
// scan passes.
func (sc *scan) next(close byte) (more, ok bool) {
	sc.space()
	if sc.pos >= len(sc.s) {
		return false, false
	}
	switch sc.s[sc.pos] {
	case ',':
		sc.pos++
		sc.space()
		return true, true
	case close:
		sc.pos++
		return false, true
	default:
		return false, false
	}
}

func (sc *scan) array(depth int) bool {
	sc.pos++ // [
	sc.space()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == ']' {
		sc.pos++
		return true
	}
	for {
		if sc.pos < len(sc.s) && sc.s[sc.pos] == '"' {
			v, ok := sc.str()
			if !ok || depth+1 > maxDepth || strings.HasPrefix(v, "-") && sc.r.secretFlag(v) || !sc.plain(v) {
				return false
			}
		} else if !sc.value(depth + 1) {
			return false
		}
		if more, ok := sc.next(']'); !more {
			return ok
		}
	}
}

func (sc *scan) literal(word string) bool {
	if !strings.HasPrefix(sc.s[sc.pos:], word) {
		return false
	}
	sc.pos += len(word)
	return true
}

// number reads RFC 8259's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *scan) number() bool {
	s, p := sc.s, sc.pos
	if s[p] == '-' {
		p++
	}
	switch {
	case p < len(s) && s[p] == '0':
		p++
	case p < len(s) && '1' <= s[p] && s[p] <= '9':
		p = digits(s, p)
	default:
		return false
	}
	if p < len(s) && s[p] == '.' {
		if q := digits(s, p+1); q > p+1 {
			p = q
		} else {
			return false
		}
	}
	if p < len(s) && (s[p] == 'e' || s[p] == 'E') {
		p++
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			p++
		}
		q := digits(s, p)
		if q == p {
			return false
		}
		p = q
	}
	sc.pos = p
	return true
}

func digits(s string, p int) int {
	for p < len(s) && '0' <= s[p] && s[p] <= '9' {
		p++
	}
	return p
}

// str reads a string at sc.pos (a quote) and returns its value: a slice
// of the text when it holds no escape. ok is false for invalid JSON and
// for what the decoder would replace (invalid UTF-8, lone surrogates).
func (sc *scan) str() (string, bool) {
	s := sc.s
	start := sc.pos + 1
	escaped, ascii := false, true
	p := start
	for ; p < len(s); p++ {
		c := s[p]
		switch {
		case c == '"':
			raw := s[start:p]
			sc.pos = p + 1
			if !ascii && !utf8.ValidString(raw) {
				return "", false
			}
			if !escaped {
				return raw, true
			}
			return unescape(raw)
		case c == '\\':
			escaped = true
			p++ // the escaped character, checked by unescape
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// unescape decodes the escapes of a JSON string's contents.
func unescape(raw string) (string, bool) {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i++; i >= len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			b.WriteByte(raw[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n := hex4(raw[i+1:])
			if n < 0 {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, n2 := rune(-1), -1
				if strings.HasPrefix(raw[i+1:], `\u`) {
					r2, n2 = hex4(raw[i+3:])
				}
				if n2 < 0 {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
				i += 6
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// hex4 reads four hex digits; n is -1 when there are not four.
func hex4(s string) (rune, int) {
	if len(s) < 4 {
		return 0, -1
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, -1
		}
		r = r<<4 | rune(c)
	}
	return r, 4
}

func contains(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}
