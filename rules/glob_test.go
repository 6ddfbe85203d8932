package rules

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"a*", "a", true},
		{"*c", "abc", true},
		{"a*c", "ac", true},
		{"a*c", "abcbc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false}, // prefix and suffix may not overlap
		{"*a*a*", "aa", true},
		{"*a*a*", "a", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\\*`, `a\b`, true},
		{"qcs::tke:*:cluster/cls-*", "qcs::tke:ap-guangzhou:uin/1:cluster/cls-x", true},
		{"日*本", "日本", true},
	}
	for _, tc := range cases {
		g, err := parseGlob(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := g.match(tc.s); got != tc.want {
			t.Errorf("%q matching %q = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestGlobErrors(t *testing.T) {
	cases := map[string]string{
		"a**b":                        "consecutive * are not allowed",
		`a\b`:                         `backslash may only escape * or \`,
		`a\`:                          `backslash may only escape * or \`,
		strings.Repeat("a*", 9) + "a": "more than 8 * in one wildcard",
	}
	for pattern, want := range cases {
		if _, err := parseGlob(pattern); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", pattern, err, want)
		}
	}
	if _, err := parseGlob(strings.Repeat("a*", 8) + "a"); err != nil {
		t.Errorf("8 stars are allowed: %v", err)
	}
}

// FuzzGlob holds the matcher to the regular expression the rule's expr
// text uses for the same wildcard.
func FuzzGlob(f *testing.F) {
	f.Add("a*b*c", "axxbyyc")
	f.Add(`*\**`, "a*b")
	f.Add("*日*", "本日")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(s) {
			return // event values are decoded JSON: always valid UTF-8
		}
		g, err := parseGlob(pattern)
		re, reErr := wildcardRegexp(pattern)
		if (err == nil) != (reErr == nil) {
			t.Fatalf("parseGlob err %v, wildcardRegexp err %v", err, reErr)
		}
		if err != nil {
			return
		}
		if want := regexp.MustCompile(re).MatchString(s); g.match(s) != want {
			t.Fatalf("%q on %q: glob %v, regexp %v", pattern, s, !want, want)
		}
	})
}
