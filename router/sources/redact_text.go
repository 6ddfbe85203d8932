package sources

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// Value detectors: secrets recognised by their form, whatever key holds
// them. Each has a cheap precondition, so the ordinary strings of a
// record (ids, names, times) cost a few substring searches and no regular
// expression. They are written for audit records rather than taken from
// gitleaks, whose rules target source files (see the commit that added
// them for the measurement).

var (
	// A PEM private key block; with no END line, the rest of the string.
	pemBegin = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`)
	pemEnd   = regexp.MustCompile(`-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`)

	// A JWT or JWS compact serialization (a JWE's five parts too): the
	// header is base64url of `{"`, which always begins "eyJ".
	jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){1,3}`)

	// HTTP credentials after their scheme (RFC 7235 token68).
	authScheme = regexp.MustCompile(`(?i)\b(bearer|basic)[ \t]+([A-Za-z0-9._~+/-]+=*)`)

	// A password in a URL's userinfo: scheme://user:password@host. The
	// password runs to the authority's last @, since passwords hold @ too.
	userinfo = regexp.MustCompile(`\b([A-Za-z][A-Za-z0-9+.-]{0,20}://[^/?#@\s:"']*):([^/?#\s"']+)@`)

	// name=value and name: value, as in query strings, fragments, form
	// bodies, properties and env files, YAML lines, command lines and
	// JSON text too broken to parse. Group 1 is the character before the
	// name (a query parameter follows ? & # or ;), 2 the name, 3 the value.
	assignment = regexp.MustCompile(`(^|[^A-Za-z0-9_.])\\?["']?([A-Za-z_][A-Za-z0-9_.\-]{0,63})\\?["']?[ \t]*[:=][ \t]*(\\"[^"\\\n]*(?:\\")?|"[^"\n]*"?|'[^'\n]*'?|[^\s&,;"'\\<>]+)`)

	// A command line's --name value.
	longFlag = regexp.MustCompile(`(^|\s)(--[A-Za-z][A-Za-z0-9_.\-]{0,63})[ \t]+([^\s\-"'][^\s"']*)`)

	// Tokens whose prefix says what they are, and an access key id
	// followed by its secret (AWS AKIA/ASIA, Tencent AKID, Alibaba LTAI).
	prefixed = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|[sr]k_live_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36})`)
	keyPair  = regexp.MustCompile(`\b((?:AKIA|ASIA|AKID|LTAI)[A-Za-z0-9]{12,36})([^A-Za-z0-9/+\[]{1,8})([A-Za-z0-9/+]{30,40})\b`)
)

// text redacts the secrets a free-text string carries: private keys,
// tokens, credentials after an HTTP scheme, URL passwords, name=value
// assignments whose name is secret, and known token formats.
func (r *Redactor) text(s string) (string, bool) {
	out, changed := s, false
	for _, d := range []func(string) (string, bool){redactPEM, redactJWT, redactAuthScheme, redactUserinfo, r.redactAssignments, redactPrefixed} {
		var c bool
		if out, c = d(out); c {
			changed = true
		}
	}
	return out, changed
}

func redactPEM(s string) (string, bool) {
	if !strings.Contains(s, "PRIVATE KEY") {
		return s, false
	}
	var b strings.Builder
	changed := false
	for {
		loc := pemBegin.FindStringIndex(s)
		if loc == nil {
			b.WriteString(s)
			return b.String(), changed
		}
		b.WriteString(s[:loc[1]])
		rest := s[loc[1]:]
		end := pemEnd.FindStringIndex(rest)
		if end == nil {
			b.WriteString(Redacted)
			return b.String(), changed || rest != Redacted
		}
		if rest[:end[0]] != Redacted {
			changed = true
		}
		b.WriteString(Redacted)
		b.WriteString(rest[end[0]:end[1]])
		s = rest[end[1]:]
	}
}

func redactJWT(s string) (string, bool) {
	if !strings.Contains(s, "eyJ") {
		return s, false
	}
	return replaceAll(jwt, s, func(m []string) string { return Redacted })
}

func redactAuthScheme(s string) (string, bool) {
	if !containsFold(s, "bearer") && !containsFold(s, "basic") {
		return s, false
	}
	return replaceAll(authScheme, s, func(m []string) string {
		cred := m[2]
		if strings.EqualFold(m[1], "basic") && !basicCredential(cred) || strings.EqualFold(m[1], "bearer") && len(cred) < 8 {
			return m[0]
		}
		return m[1] + " " + Redacted
	})
}

// basicCredential reports whether cred is base64 of user:password, so
// that prose ("basic authentication") is left alone.
func basicCredential(cred string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(cred); err == nil && strings.ContainsRune(string(b), ':') {
			return true
		}
	}
	return false
}

func redactUserinfo(s string) (string, bool) {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s, false
	}
	return replaceAll(userinfo, s, func(m []string) string {
		if m[2] == Redacted {
			return m[0]
		}
		return m[1] + ":" + Redacted + "@"
	})
}

func (r *Redactor) redactAssignments(s string) (string, bool) {
	if !strings.ContainsAny(s, "=:") && !strings.Contains(s, "--") {
		return s, false
	}
	out, changed := r.assignments(s)
	if !strings.Contains(out, "--") {
		return out, changed
	}
	out, c := replaceAll(longFlag, out, func(m []string) string {
		if !r.keys.secret(m[2]) {
			return m[0]
		}
		return redactValueIn(m[0], m[3])
	})
	return out, changed || c
}

// assignments redacts the values of secret names. After an ordinary name
// the search goes on from its value, not past it, since a bare value may
// run into the next assignment ("url=https://h/cb#access_token=...").
func (r *Redactor) assignments(s string) (string, bool) {
	var b strings.Builder
	changed, pos := false, 0
	for pos < len(s) {
		loc := assignment.FindStringSubmatchIndex(s[pos:])
		if loc == nil {
			break
		}
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += pos
			}
		}
		name := NormalKey(s[loc[4]:loc[5]])
		secret := r.keys.secretNormal(name) || queryOnlyKeys[name] && strings.ContainsAny(s[loc[2]:loc[3]], "?&#;")
		if !secret {
			b.WriteString(s[pos:loc[6]])
			pos = loc[6]
			continue
		}
		if end := lineValueEnd(s, loc[4], loc[6], loc[7]); end > loc[7] {
			loc[1], loc[7] = end, end
		}
		match, value := s[loc[0]:loc[1]], s[loc[6]:loc[7]]
		rep := redactValueIn(match, value)
		changed = changed || rep != match
		b.WriteString(s[pos:loc[0]])
		b.WriteString(rep)
		pos = loc[1]
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[pos:])
	return b.String(), true
}

// lineValueEnd is where the value of a secret name that starts a line
// (a properties, env or YAML line) really ends: at the end of the line,
// since such values hold & , ; and spaces; for a YAML block scalar
// (password: |), after the more indented lines that follow. Values of
// names inside a line (query strings, form bodies) end where the pattern
// found, as does a quoted value.
func lineValueEnd(s string, nameStart, valueStart, valueEnd int) int {
	lineStart := strings.LastIndexByte(s[:nameStart], '\n') + 1
	lead := strings.TrimLeft(s[lineStart:nameStart], " \t")
	if lead != "" && lead != "export " || strings.ContainsAny(s[valueStart:valueStart+1], `"'\`) || s[valueStart:valueEnd] == Redacted {
		return valueEnd
	}
	end := len(s)
	if nl := strings.IndexByte(s[valueStart:], '\n'); nl >= 0 {
		end = valueStart + nl
	}
	if v := strings.TrimSpace(s[valueStart:end]); v != "" && strings.IndexAny(v[:1], "|>") == 0 && len(v) <= 3 {
		indent := nameStart - lineStart
		for end < len(s) {
			next := end + 1
			stop := strings.IndexByte(s[next:], '\n')
			line := s[next:]
			if stop >= 0 {
				line = s[next : next+stop]
			}
			if strings.TrimSpace(line) != "" && len(line)-len(strings.TrimLeft(line, " \t")) <= indent {
				break
			}
			end = next + len(line)
		}
	}
	return max(end, valueEnd)
}

// redactValueIn replaces value, the end of match, keeping its quotes (a
// value cut short may lack the closing one).
func redactValueIn(match, value string) string {
	inner, open, close := value, "", ""
	for _, q := range []string{`\"`, `"`, `'`} {
		if strings.HasPrefix(value, q) {
			inner, open = value[len(q):], q
			if strings.HasSuffix(inner, q) {
				inner, close = inner[:len(inner)-len(q)], q
			}
			break
		}
	}
	if inner == Redacted || inner == "" {
		return match
	}
	return match[:len(match)-len(value)] + open + Redacted + close
}

// tokenPrefixes are literals every match of prefixed holds, so a string
// without one needs no regular expression ("gh" alone would send every
// "high" and "through" to it).
var tokenPrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
	"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "k_live_", "AIza", "npm_"}

func redactPrefixed(s string) (string, bool) {
	out, changed := s, false
	for _, p := range tokenPrefixes {
		if strings.Contains(s, p) {
			out, changed = replaceAll(prefixed, s, func(m []string) string { return Redacted })
			break
		}
	}
	if !strings.Contains(out, "AKI") && !strings.Contains(out, "ASIA") && !strings.Contains(out, "LTAI") {
		return out, changed
	}
	out, c := replaceAll(keyPair, out, func(m []string) string { return m[1] + m[2] + Redacted })
	return out, changed || c
}

// replaceAll applies repl to every match of re in s (repl gets the
// submatches) and reports whether any replacement differed.
func replaceAll(re *regexp.Regexp, s string, repl func([]string) string) (string, bool) {
	idx := re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s, false
	}
	var b strings.Builder
	last, changed := 0, false
	for _, loc := range idx {
		m := make([]string, len(loc)/2)
		for i := range m {
			if loc[2*i] >= 0 {
				m[i] = s[loc[2*i]:loc[2*i+1]]
			}
		}
		rep := repl(m)
		if rep != m[0] {
			changed = true
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(rep)
		last = loc[1]
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// containsFold is strings.Contains ignoring ASCII case, for lowercase
// ASCII sub (as strings.EqualFold compares a window of len(sub) bytes
// with it: no other byte sequence of that length folds to ASCII).
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if lowerASCII(s[i]) == sub[0] && equalFoldASCII(s[i+1:i+len(sub)], sub[1:]) {
			return true
		}
	}
	return false
}

func equalFoldASCII(s, lower string) bool {
	for i := range len(lower) {
		if lowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
