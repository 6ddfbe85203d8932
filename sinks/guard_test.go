package sinks_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/auditbus/auditbus/sinks"
)

// loopback lets test sinks reach httptest servers, which listen on
// 127.0.0.1, and nothing else private.
var loopback = sinks.NewGuard(false, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestGuardCheck(t *testing.T) {
	deny := (*sinks.Guard)(nil)
	allowAll := sinks.NewGuard(true, nil)
	allowMeta := sinks.NewGuard(false, prefixes("169.254.169.254/32", "10.20.0.0/16"))
	allowMapped := sinks.NewGuard(false, prefixes("::ffff:127.0.0.0/104"))
	tests := []struct {
		guard   *sinks.Guard
		addr    string
		allowed bool
	}{
		{deny, "127.0.0.1", false},
		{deny, "127.255.0.9", false},
		{deny, "169.254.169.254", false},
		{deny, "169.254.0.23", false},
		{deny, "10.1.2.3", false},
		{deny, "172.16.0.1", false},
		{deny, "172.31.255.255", false},
		{deny, "192.168.1.1", false},
		{deny, "100.64.0.1", false},
		{deny, "100.127.255.254", false},
		{deny, "0.0.0.0", false},
		{deny, "0.1.2.3", false},
		{deny, "224.0.0.1", false},
		{deny, "255.255.255.255", false},
		{deny, "::", false},
		{deny, "::1", false},
		{deny, "fd00::1", false},
		{deny, "fc12:3456::1", false},
		{deny, "fe80::1", false},
		{deny, "fe80::1%eth0", false},
		{deny, "ff02::1", false},
		{deny, "::ffff:127.0.0.1", false},
		{deny, "::ffff:169.254.169.254", false},
		{deny, "::ffff:10.0.0.1", false},
		// special-purpose IPv4 blocks, and IPv6 forms carrying IPv4
		{deny, "192.0.2.2", false},
		{deny, "198.18.0.1", false},
		{deny, "203.0.113.7", false},
		{deny, "::7f00:1", false},
		{deny, "::a9fe:a9fe", false},
		{deny, "64:ff9b::7f00:1", false},
		{deny, "64:ff9b::a9fe:a9fe", false},
		{deny, "64:ff9b::a00:5", false},
		{deny, "64:ff9b:1::a00:5", false},
		{deny, "2002:7f00:1::1", false},
		{deny, "2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{deny, "64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{allowMeta, "64:ff9b::a9fe:a9fe", true},
		// the router's own addresses
		{sinks.SetLocalAddrs(sinks.NewGuard(false, nil), "93.184.215.14"), "93.184.215.14", false},
		{sinks.SetLocalAddrs(sinks.NewGuard(true, nil), "93.184.215.14"), "93.184.215.14", true},
		{sinks.SetLocalAddrs(sinks.NewGuard(false, prefixes("93.184.215.14/32")), "93.184.215.14"), "93.184.215.14", true},
		// public addresses, and neighbours of the refused blocks
		{deny, "93.184.215.14", true},
		{deny, "8.8.8.8", true},
		{deny, "172.32.0.1", true},
		{deny, "100.128.0.1", true},
		{deny, "169.255.0.1", true},
		{deny, "2606:4700:4700::1111", true},
		{deny, "::ffff:8.8.8.8", true},
		{sinks.NewGuard(false, nil), "127.0.0.1", false},
		{allowAll, "127.0.0.1", true},
		{allowAll, "169.254.169.254", true},
		{allowAll, "fd00::1", true},
		{allowMeta, "169.254.169.254", true},
		{allowMeta, "::ffff:169.254.169.254", true},
		{allowMeta, "169.254.169.253", false},
		{allowMeta, "10.20.3.4", true},
		{allowMeta, "10.21.3.4", false},
		{allowMeta, "127.0.0.1", false},
		{allowMeta, "8.8.8.8", true},
		{allowMapped, "127.0.0.1", true},
		{allowMapped, "::ffff:127.0.0.1", true},
	}
	for _, tt := range tests {
		err := tt.guard.Check(netip.MustParseAddr(tt.addr))
		if (err == nil) != tt.allowed {
			t.Errorf("guard %p: Check(%s) = %v, want allowed=%v", tt.guard, tt.addr, err, tt.allowed)
		}
		if err != nil && (sinks.Retryable(err) || !errors.Is(err, sinks.ErrForbiddenAddress)) {
			t.Errorf("Check(%s) = %v: want a permanent ErrForbiddenAddress", tt.addr, err)
		}
	}
}

// TestGuardControl checks the dial hook itself, as net.Dialer calls it,
// without connecting anywhere.
func TestGuardControl(t *testing.T) {
	tests := []struct {
		network, address string
		want             string // "" for allowed, else a substring of the error
	}{
		{"tcp4", "93.184.215.14:443", ""},
		{"tcp6", "[2606:4700:4700::1111]:443", ""},
		{"tcp4", "127.0.0.1:8080", "127.0.0.1 is a loopback address"},
		{"tcp4", "169.254.169.254:80", "169.254.169.254 is a link-local address"},
		{"tcp4", "10.1.2.3:443", "10.1.2.3 is a private (RFC 1918) address"},
		{"tcp6", "[::1]:80", "::1 is a loopback address"},
		{"tcp6", "[fd12::1]:80", "fd12::1 is a unique local"},
		{"tcp6", "[::ffff:127.0.0.1]:80", "127.0.0.1 is a loopback address"},
		{"tcp6", "[fe80::1%eth0]:80", "fe80::1 is a link-local address"},
		{"tcp4", "localhost:80", "not an IP address and port"},
	}
	for _, tt := range tests {
		err := (*sinks.Guard)(nil).Control(tt.network, tt.address, nil)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Control(%s) = %v, want allowed", tt.address, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Control(%s) = %v, want an error containing %q", tt.address, err, tt.want)
		case tt.want != "" && !strings.Contains(err.Error(), "--allow-private-targets") && tt.address != "localhost:80":
			t.Errorf("Control(%s) = %v: does not say how to allow it", tt.address, err)
		}
	}
}

// TestGuardRefusesAtDial delivers through real webhooks: refused targets
// fail for good before any connection, allowed ones are delivered to.
func TestGuardRefusesAtDial(t *testing.T) {
	srv, got := hook(t, http.StatusOK, nil)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	tests := []struct {
		name  string
		url   string
		guard *sinks.Guard
		want  string // "" for delivered, else a substring of the error
	}{
		{"loopback by default", srv.URL, nil, "127.0.0.1 is a loopback address"},
		{"localhost resolves to loopback", "http://localhost" + port, nil, "is a loopback address"},
		{"mapped loopback", "http://[::ffff:127.0.0.1]" + port, nil, "127.0.0.1 is a loopback address"},
		{"IPv6 loopback", "http://[::1]" + port, nil, "::1 is a loopback address"},
		{"metadata service", "http://169.254.169.254/latest/meta-data/", nil, "169.254.169.254 is a link-local address"},
		{"metadata, other blocks allowed", "http://169.254.169.254/", sinks.NewGuard(false, prefixes("127.0.0.0/8")), "169.254.169.254"},
		{"loopback, other blocks allowed", srv.URL, sinks.NewGuard(false, prefixes("10.0.0.0/8")), "127.0.0.1 is a loopback address"},
		{"allowed by flag", srv.URL, sinks.NewGuard(true, nil), ""},
		{"allowed by CIDR", srv.URL, sinks.NewGuard(false, prefixes("127.0.0.1/32")), ""},
		{"localhost allowed by CIDR", "http://localhost" + port, loopback, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newSink(t, "webhook", `{url: "`+tt.url+`", timeout: 5s}`, sinks.Deps{Guard: tt.guard}).Deliver(context.Background(), delivery(t))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Deliver: %v", err)
				}
				<-got
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || sinks.Retryable(err) || !errors.Is(err, sinks.ErrForbiddenAddress) {
				t.Errorf("Deliver = %v (retryable %v), want a permanent refusal containing %q", err, sinks.Retryable(err), tt.want)
			}
			if len(got) != 0 {
				t.Errorf("the refused target was called")
			}
		})
	}
}

// TestGuardChecksResolvedAddress resolves names through a fake DNS server:
// a name that resolves to a private address is refused, and the error
// names the address it resolved to.
func TestGuardChecksResolvedAddress(t *testing.T) {
	srv, got := hook(t, http.StatusOK, nil)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	res := fakeResolver(t, map[string]netip.Addr{
		"internal.test": netip.MustParseAddr("10.1.2.3"),
		"loop.test":     netip.MustParseAddr("127.0.0.1"),
	})
	refusing := sinks.SetResolver(sinks.NewGuard(false, nil), res)
	err := newSink(t, "webhook", `{url: "http://internal.test/hook", timeout: 5s}`, sinks.Deps{Guard: refusing}).Deliver(context.Background(), delivery(t))
	if err == nil || !strings.Contains(err.Error(), "10.1.2.3 is a private (RFC 1918) address") || sinks.Retryable(err) {
		t.Errorf("name resolving to 10.1.2.3: %v", err)
	}
	err = newSink(t, "webhook", `{url: "http://loop.test`+port+`", timeout: 5s}`, sinks.Deps{Guard: refusing}).Deliver(context.Background(), delivery(t))
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Errorf("name resolving to 127.0.0.1: %v", err)
	}
	// The same resolver with loopback allowed reaches the server: the
	// refusals above came from the check, not from the fake DNS.
	allowing := sinks.SetResolver(sinks.NewGuard(false, prefixes("127.0.0.0/8")), res)
	if err := newSink(t, "webhook", `{url: "http://loop.test`+port+`"}`, sinks.Deps{Guard: allowing}).Deliver(context.Background(), delivery(t)); err != nil {
		t.Fatalf("name resolving to allowed 127.0.0.1: %v", err)
	}
	<-got
}

// TestDisguisedIPv4HostsRefusedAtLoad: hosts that resolvers disagree on
// are refused when the rule loads, whatever the guard allows later.
func TestDisguisedIPv4HostsRefusedAtLoad(t *testing.T) {
	tests := []struct{ host, want string }{
		{"127.1", "write it as 127.0.0.1"},
		{"2130706433", "write it as 127.0.0.1"},
		{"0x7f000001", "write it as 127.0.0.1"},
		{"0X7F.1", "write it as 127.0.0.1"},
		{"0177.0.0.1", "write it as 127.0.0.1"},
		{"169.254.43518", "write it as 169.254.169.254"},
		{"10.0.0.010", "write it as 10.0.0.8"},
		{"127.0.0.1.", "write it as 127.0.0.1"},
		{"256.1.1.1", "not a valid one"},
		{"1.2.3.4.5", "not a valid one"},
		{"example.123", "not a valid one"},
	}
	for _, tt := range tests {
		for _, kind := range []struct{ kind, cfg string }{
			{"webhook", `{url: "http://` + tt.host + `/hook"}`},
			{"function", `{urn: "urn:fss:r:1:function:default:f:latest", url: "http://` + tt.host + `/invoke"}`},
		} {
			err := sinks.Check(kind.kind, node(t, kind.cfg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s host %q: %v, want an error containing %q", kind.kind, tt.host, err, tt.want)
			}
		}
	}
	for _, host := range []string{"127.0.0.1", "10.0.0.8", "[::1]", "[::ffff:127.0.0.1]", "hooks.example.com", "0x.example", "a1.b2"} {
		if err := sinks.Check("webhook", node(t, `{url: "http://`+host+`/hook"}`)); err != nil {
			t.Errorf("host %q refused at load: %v", host, err)
		}
	}
}

func TestParseCIDR(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"10.0.0.0/8", "10.0.0.0/8", ""},
		{"10.1.2.3", "10.1.2.3/32", ""},
		{"::1", "::1/128", ""},
		{"fd00::/8", "fd00::/8", ""},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", ""},
		{"10.1.2.3/8", "", "did you mean 10.0.0.0/8 or 10.1.2.3/32"},
		{"10.0.0.0/33", "", "want a CIDR block"},
		{"fe80::1%eth0", "", "zone"},
		{"localhost", "", "want a CIDR block"},
	}
	for _, tt := range tests {
		p, err := sinks.ParseCIDR(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseCIDR(%q) = %v, %v; want an error containing %q", tt.in, p, err, tt.err)
			}
			continue
		}
		if err != nil || p.String() != tt.want {
			t.Errorf("ParseCIDR(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

// fakeResolver returns a resolver whose DNS server answers A queries for
// names, and NXDOMAIN for any other name.
func fakeResolver(t *testing.T, names map[string]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { serveDNS(pc, names) })
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// serveDNS answers queries on pc until it is closed.
func serveDNS(pc net.PacketConn, names map[string]netip.Addr) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if answer := dnsAnswer(buf[:n], names); answer != nil {
			_, _ = pc.WriteTo(answer, from)
		}
	}
}

// dnsAnswer builds the answer to one query (RFC 1035 4.1): the header,
// the question copied, and an A record when the name is known and A was
// asked; nil for a query it cannot read.
func dnsAnswer(q []byte, names map[string]netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	ip, known := names[strings.ToLower(strings.Join(labels, "."))]
	var rcode byte
	if !known {
		rcode = 3 // NXDOMAIN
	}
	// id; QR and RD; RA and rcode; one question, no records yet
	a := append([]byte{q[0], q[1], 0x81, 0x80 | rcode}, 0, 1, 0, 0, 0, 0, 0, 0)
	a = append(a, q[12:i+5]...)
	if known && qtype == 1 {
		a[7] = 1                                               // one answer
		a = append(a, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4) // name pointer, A, IN, TTL 60, 4 bytes
		a = append(a, ip.AsSlice()...)
	}
	return a
}
