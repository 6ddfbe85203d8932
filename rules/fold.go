package rules

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// prefixFold reports whether s starts with p, ignoring case as
// strings.EqualFold does: rune by rune, since folding can change a
// character's length in bytes (K, the Kelvin sign, is three bytes; k one).
func prefixFold(s, p string) bool {
	for p != "" {
		if s == "" {
			return false
		}
		rs, ns := utf8.DecodeRuneInString(s)
		rp, np := utf8.DecodeRuneInString(p)
		if !equalRuneFold(rs, rp) {
			return false
		}
		s, p = s[ns:], p[np:]
	}
	return true
}

// suffixFold is prefixFold from the end.
func suffixFold(s, p string) bool {
	for p != "" {
		if s == "" {
			return false
		}
		rs, ns := utf8.DecodeLastRuneInString(s)
		rp, np := utf8.DecodeLastRuneInString(p)
		if !equalRuneFold(rs, rp) {
			return false
		}
		s, p = s[:len(s)-ns], p[:len(p)-np]
	}
	return true
}

func equalRuneFold(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// parseIP reads an address as Event Ruler does: Go's parser, and also
// dotted IPv4 whose parts have leading zeros ("010.001.002.003" is
// 10.1.2.3, decimal, not octal, however many zeros), which Go refuses.
//
// It allocates nothing: netip's errors do, so netip only sees strings
// that look like IPv6 (a colon, and no character an address cannot hold
// but in a zone).
func parseIP(s string) (netip.Addr, bool) {
	if strings.IndexByte(s, ':') >= 0 {
		if strings.IndexByte(s, '%') < 0 && strings.Trim(s, "0123456789abcdefABCDEF:.") != "" {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s)
		return a, err == nil
	}
	var b [4]byte
	for i := range b {
		end := strings.IndexByte(s, '.')
		if i == 3 {
			end = len(s)
		} else if end < 0 {
			return netip.Addr{}, false
		}
		part := s[:end]
		if part == "" || strings.TrimLeft(part, "0123456789") != "" {
			return netip.Addr{}, false
		}
		n, err := strconv.Atoi(part)
		if err != nil || n > 255 {
			return netip.Addr{}, false
		}
		b[i], s = byte(n), s[min(end+1, len(s)):]
	}
	return netip.AddrFrom4(b), true
}

// parseCIDR reads a block whose address parseIP accepts, masked.
func parseCIDR(s string) (netip.Prefix, error) {
	addr, bits, _ := strings.Cut(s, "/")
	if _, err := netip.ParseAddr(addr); err == nil {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, ok := parseIP(addr)
	n, err := strconv.Atoi(bits)
	if !ok || err != nil || strings.TrimLeft(bits, "0123456789") != "" {
		return netip.ParsePrefix(s) // for its error message
	}
	return a.Prefix(n)
}
