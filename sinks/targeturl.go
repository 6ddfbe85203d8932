package sinks

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// parseTargetURL checks a URL the router will call (a webhook's, a
// function's invocation endpoint) when the rule loads: absolute, http or
// https, with a host that is not an IP address in disguise (see
// checkHostSpelling). Whether the address it leads to may be called is
// decided when dialing (Guard), since only then is the address known.
func parseTargetURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want an absolute http or https URL", raw)
	}
	if err := checkHostSpelling(u.Hostname()); err != nil {
		return nil, fmt.Errorf("url %q: %w", raw, err)
	}
	return u, nil
}

// checkHostSpelling refuses hosts that are IPv4 addresses in one of the
// spellings inet_aton accepts besides the dotted quad: fewer parts
// ("127.1"), one number ("2130706433"), hex ("0x7f000001") or octal
// ("0177.0.0.1"). Go's resolver does not read them as addresses and would
// look them up as names, while a system resolver, curl or a browser reads
// them as 127.0.0.1: such a URL means different things to different
// readers, so it is refused with the dotted quad to write instead. As the
// WHATWG URL standard does, a host whose last label is a number (decimal,
// or 0x hex) is taken as an IPv4 address; no DNS name ends that way.
func checkHostSpelling(host string) error {
	if strings.Contains(host, ":") {
		return nil // an IPv6 literal: resolvers agree on those
	}
	h := strings.TrimSuffix(host, ".")
	if !endsInNumber(h) {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil // the canonical dotted quad
	}
	ip, ok := inetAton(h)
	if !ok {
		return fmt.Errorf("host %q looks like an IPv4 address but is not a valid one; write a dotted quad such as 192.0.2.10", host)
	}
	return fmt.Errorf("host %q is the IPv4 address %s in a non-standard spelling, which resolvers read differently; write it as %s",
		host, ip, ip)
}

// endsInNumber reports whether the last dot-separated label of host is a
// decimal number or a 0x hex number.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if hex, ok := strings.CutPrefix(strings.ToLower(last), "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// inetAton parses the IPv4 forms inet_aton(3) accepts: one to four parts,
// each decimal, octal (leading 0) or hex (leading 0x), the last part
// filling the remaining bytes.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := atonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(4-i)) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func atonPart(p string) (uint64, bool) {
	base, digits := 10, p
	switch {
	case strings.HasPrefix(strings.ToLower(p), "0x"):
		base, digits = 16, p[2:]
		if digits == "" {
			return 0, true // inet_aton reads a bare "0x" as 0
		}
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	n, err := strconv.ParseUint(digits, base, 32)
	return n, err == nil
}
