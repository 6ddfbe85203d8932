package rules

import "testing"

func TestParseIP(t *testing.T) {
	cases := map[string]string{
		"10.1.2.3": "10.1.2.3", "010.001.002.003": "10.1.2.3", "0010.1.2.3": "10.1.2.3", "::ffff:10.1.2.3": "::ffff:10.1.2.3",
		"2001:db8::1": "2001:db8::1", "256.1.2.3": "", "1.2.3": "", "1.2.3.4.5": "", "a.b.c.d": "", "-1.2.3.4": "", "": "",
		"1.2.3.4 ": "", "99999999999999999999.1.2.3": "",
	}
	for in, want := range cases {
		a, ok := parseIP(in)
		if got := a.String(); ok != (want != "") || (ok && got != want) {
			t.Errorf("parseIP(%q) = %s, %v; want %q", in, got, ok, want)
		}
	}
}

func TestFold(t *testing.T) {
	cases := []struct {
		s, p           string
		prefix, suffix bool
	}{
		{"DeleteCluster", "dELETE", true, false},
		{"DeleteCluster", "CLUSTER", false, true},
		{"\u212aelvin", "kel", true, false}, // the Kelvin sign folds to k
		{"ok", "OK", true, true},
		{"o", "ok", false, false},
		{"", "", true, true},
		{"ΣΊΣΥΦΟΣ", "σίσ", true, false},
		{"ΣΊΣΥΦΟΣ", "φος", false, true},
	}
	for _, tc := range cases {
		if got := prefixFold(tc.s, tc.p); got != tc.prefix {
			t.Errorf("prefixFold(%q, %q) = %v", tc.s, tc.p, got)
		}
		if got := suffixFold(tc.s, tc.p); got != tc.suffix {
			t.Errorf("suffixFold(%q, %q) = %v", tc.s, tc.p, got)
		}
	}
}

// TestParseIPAllocates nothing: cidr matchers run on every candidate's
// strings, and events that match nothing must not allocate.
func TestParseIPAllocates(t *testing.T) {
	for _, s := range []string{"not.an.ip.address", "010.001.002.003", "10.1.2.3", "DeleteCluster", "tke:CloudEvent:ApiCall", "2001:db8::1"} {
		if n := testing.AllocsPerRun(100, func() { parseIP(s) }); n != 0 {
			t.Errorf("parseIP(%q) allocates %v times", s, n)
		}
	}
}
