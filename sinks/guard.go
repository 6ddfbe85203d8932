package sinks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is wrapped by every refusal of Guard: the address a
// target URL resolved to is not one the router may connect to.
var ErrForbiddenAddress = errors.New("forbidden target address")

// Timeouts of the connections a Guard's transport opens. A target's own
// timeout (Client's) still bounds the whole request.
const (
	guardDialTimeout         = 10 * time.Second
	guardTLSHandshakeTimeout = 10 * time.Second
	guardIdleConnTimeout     = 90 * time.Second
	// Deliveries to one target run concurrently, up to its concurrency
	// (at most rules.MaxConcurrency, 1000), and a transport serves one
	// target: keep every connection its concurrency opened for the next
	// burst (closing the rest meant dialling them again each burst). Idle
	// ones close after guardIdleConnTimeout.
	guardMaxIdleConnsPerHost = 1000
)

// Guard decides which IP addresses the router may connect to when it calls
// a URL taken from a rule (webhook and function targets): the protection
// against server-side request forgery, where whoever writes rules would use
// the router to reach the cloud metadata service (169.254.169.254), the
// admin port of a service bound to localhost, or a private network the
// router can see but they cannot.
//
// By default these are refused: unspecified (0.0.0.0/8, ::), loopback
// (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), private
// (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, the deprecated
// fec0::/10), shared carrier-grade NAT space (100.64.0.0/10), multicast
// and the reserved 240.0.0.0/4 (broadcast included), documentation and
// benchmarking blocks, IPv6 forms that carry an IPv4 address (IPv4-
// compatible, local-use NAT64, 6to4, Teredo), and every address of the
// router's own host. IPv4-mapped (::ffff:127.0.0.1) and well-known NAT64
// (64:ff9b::7f00:1) addresses are judged as the IPv4 address they carry.
// Everything else is allowed.
//
// The check runs when dialing (Control), on the address actually being
// connected to after DNS, so a name whose DNS answer changes between a
// check and the connection (DNS rebinding) cannot get around it.
//
// A nil *Guard is the default: private addresses refused, no allowlist.
type Guard struct {
	allowPrivate bool
	allow        []netip.Prefix
	resolver     *net.Resolver       // nil: net.DefaultResolver (tests set one)
	localAddrs   func() []netip.Addr // nil: the host's interfaces (tests set one)
}

// NewGuard returns a Guard. allowPrivate turns the check off entirely
// (`--allow-private-targets`, for a router on a trusted network or a
// laptop); allow lists blocks that are allowed although they fall in a
// refused range (`--allow-target-cidrs`); IPv4-mapped IPv6 prefixes are
// taken as the IPv4 prefixes they carry.
func NewGuard(allowPrivate bool, allow []netip.Prefix) *Guard {
	g := &Guard{allowPrivate: allowPrivate}
	for _, p := range allow {
		g.allow = append(g.allow, normalizePrefix(p))
	}
	return g
}

// forbiddenRanges are the blocks refused by default, each with what to
// call an address in it.
var forbiddenRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified (this-network) address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private (RFC 1918) address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared carrier-grade NAT (RFC 6598) address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address (where cloud metadata services answer)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private (RFC 1918) address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private (RFC 1918) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment (special-purpose) address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation (TEST-NET) address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking (special-purpose) address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation (TEST-NET) address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation (TEST-NET) address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved or broadcast address"},
	{netip.MustParsePrefix("::/128"), "an unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	// IPv6 forms that carry an IPv4 address the router cannot judge: the
	// old IPv4-compatible form, local-use NAT64, 6to4 and Teredo. (The
	// well-known NAT64 prefix is judged by the IPv4 address it carries.)
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible IPv6 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address"},
	{netip.MustParsePrefix("fc00::/7"), "a unique local (private) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local (private) address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// Check returns nil when the guard lets the router connect to ip, and
// otherwise a permanent *Error wrapping ErrForbiddenAddress that names the
// address, why it is refused and the flags that would allow it. Retrying
// cannot help: the answer only changes with the server's configuration.
func (g *Guard) Check(ip netip.Addr) error {
	// A zone says which interface, not which address; Prefix.Contains
	// never matches a zoned address, so drop it before comparing.
	ip = ip.WithZone("").Unmap()
	if g != nil && g.allowPrivate {
		return nil
	}
	what := g.forbiddenKind(ip)
	if what == "" || g.allowed(ip) {
		return nil
	}
	return Permanent(fmt.Errorf("%w: %s is %s; auditbus does not call such addresses unless told to: "+
		"start it with --allow-private-targets, or list the block in --allow-target-cidrs (e.g. %s)",
		ErrForbiddenAddress, ip, what, netip.PrefixFrom(ip, ip.BitLen())))
}

// nat64 is the well-known NAT64 prefix (RFC 6052): on an IPv6-only network
// with DNS64, a name whose only A record is 10.0.0.5 resolves to
// 64:ff9b::a00:5, and the NAT64 gateway connects to 10.0.0.5.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

func (g *Guard) forbiddenKind(ip netip.Addr) string {
	if !ip.IsValid() {
		return "not a valid address"
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if what := g.forbiddenKind(v4); what != "" && !g.allowed(v4) {
			return "a NAT64 form of " + v4.String() + ", " + what
		}
		return ""
	}
	for _, r := range forbiddenRanges {
		if r.prefix.Contains(ip) {
			return r.what
		}
	}
	if g.ownAddress(ip) {
		// A service bound to 0.0.0.0 answers on every address of the
		// host, and the kernel routes such a connection over loopback.
		return "an address of the router's own host"
	}
	return ""
}

// ownAddress reports whether ip is assigned to one of this host's
// interfaces. It is asked at each new connection, so addresses added
// later count too.
func (g *Guard) ownAddress(ip netip.Addr) bool {
	addrs := interfaceAddrs
	if g != nil && g.localAddrs != nil {
		addrs = g.localAddrs
	}
	for _, a := range addrs() {
		if a.Unmap() == ip {
			return true
		}
	}
	return false
}

func interfaceAddrs() []netip.Addr {
	nets, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(nets))
	for _, n := range nets {
		if p, err := netip.ParsePrefix(n.String()); err == nil {
			out = append(out, p.Addr().WithZone(""))
		}
	}
	return out
}

func (g *Guard) allowed(ip netip.Addr) bool {
	if g == nil {
		return false
	}
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Control checks the address a socket is about to connect to; it has the
// signature of net.Dialer.Control. address is the resolved "ip:port", so
// this is the last moment before the connection, after any DNS lookup. An
// address that does not parse is refused: the check never fails open.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return Permanent(fmt.Errorf("%w: dial %s %q: not an IP address and port", ErrForbiddenAddress, network, address))
	}
	return g.Check(ap.Addr())
}

// DialContext connects like net.Dialer.DialContext, with the dial timeout
// of the guard's transport, refusing forbidden addresses (see Control).
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return g.dialer().DialContext(ctx, network, address)
}

func (g *Guard) dialer() *net.Dialer {
	d := &net.Dialer{Timeout: guardDialTimeout, KeepAlive: 30 * time.Second, Control: g.Control}
	if g != nil {
		d.Resolver = g.resolver
	}
	return d
}

// Client returns an HTTP client over a new HTTP/1.1 transport (h1.go)
// whose connections pass the guard, gives up after timeout and never
// follows redirects: a 3xx is the answer, since following it would send
// audit data to a URL the rule author did not name (and one the URL check
// at load never saw). It ignores HTTP_PROXY and friends: through a proxy
// the guard would only ever see the proxy's address, and the proxy would
// connect anywhere. Each call has its own transport (its own connection
// pool), so closing one target's idle connections leaves the others'
// alone. The transport applies the timeout, not the client: a client's
// own runs a goroutine per request with any transport but net/http's.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: &h1Transport{dial: g.dialer().DialContext, tls: &tls.Config{MinVersion: tls.VersionTLS12},
			maxIdle: guardMaxIdleConnsPerHost, idleFor: guardIdleConnTimeout, timeout: timeout},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ParseCIDR reads one entry of an allowlist: a CIDR block such as
// "10.20.0.0/16", or a single address ("10.20.0.5", "::1"). A block with
// host bits set ("10.1.2.3/8") is refused rather than widened, since it is
// more often a typo for a single address than a wish to allow the /8.
func ParseCIDR(s string) (netip.Prefix, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		if ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: an allowed address cannot have a zone", s)
		}
		return normalizePrefix(netip.PrefixFrom(ip, ip.BitLen())), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: want a CIDR block (10.0.0.0/8) or an IP address: %w", s, err)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set: did you mean %s or %s?",
			s, p.Masked(), netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
	}
	return normalizePrefix(p), nil
}

// normalizePrefix turns an IPv4-mapped IPv6 block (::ffff:10.0.0.0/104)
// into the IPv4 block it carries, since Check compares unmapped addresses.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	p = p.Masked()
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}
