package sources

import (
	"path"
	"strings"
	"unicode"
)

// DefaultRedactKeys are the key patterns whose values never reach the bus.
// Keys and patterns compare folded (see NormalKey): lowercase, letters and
// digits only, so "*_password" covers db_password, dbPassword and
// DB-PASSWORD alike. A pattern is a glob ('*' any run, '?' one character);
// one starting with '!' keeps the keys it matches even when another
// pattern would redact them.
//
// The patterns end in the word that holds the secret, so keys that name or
// describe one survive: secretName, secretRef, secretId (a Tencent access
// key id, not its secret), accessKeyId, tokenType, passwordLastUsed,
// minimumPasswordLength. Rules match on those.
var DefaultRedactKeys = []string{
	// passwords, as every API spells them (adminPass, user_password, pwd)
	"*password", "*passwd", "*passphrase", "*pwd", "*pass", "!*bypass", "!*compass",
	// secrets and keys (clientSecret, accessKeySecret, aws_secret_access_key,
	// tmpSecretKey, SecretString, privateKey, x-api-key)
	"*secret", "*secretkey", "*secretaccesskey", "*secretstring", "*secretvalue", "*secretbinary",
	"*privatekey", "*apikey", "*signingkey", "*encryptionkey", "*masterkey", "*accountkey",
	"*sharedkey", "psk", "sk",
	// tokens and credentials (access_token, X-Subject-Token, Credentials)
	"*token", "*credential", "*credentials",
	// HTTP (Authorization, X-Forwarded-Authorization, Set-Cookie) and
	// pre-signed URLs (X-Amz-Signature, Signature)
	"*authorization", "*cookie", "*signature",
	// whole documents that carry secrets more often than not
	"*connectionstring", "userdata", "kubeconfig",
}

// DefaultKeysEntry, given as an entry of NewRedactor's list, stands for
// DefaultRedactKeys, so an operator can add patterns without copying the
// defaults.
const DefaultKeysEntry = "@default"

// queryOnlyKeys are redacted as URL query and fragment parameters only: an
// OAuth authorization code is a credential there, while "code" elsewhere
// in audit records is a status that rules match on.
var queryOnlyKeys = map[string]bool{"code": true}

// NormalKey folds a key for matching: lowercase, with everything but
// letters and digits dropped (so "X-Auth-Token", "x_auth_token" and
// "xAuthToken" are one key).
func NormalKey(k string) string {
	if isNormal(k) {
		return k // most keys of a record: no copy
	}
	return strings.Map(func(c rune) rune {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			return unicode.ToLower(c)
		}
		return -1
	}, k)
}

func isNormal(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// normalPattern folds a pattern like a key, keeping its glob characters.
func normalPattern(p string) string {
	return strings.Map(func(c rune) rune {
		if c == '*' || c == '?' || unicode.IsLetter(c) || unicode.IsDigit(c) {
			return unicode.ToLower(c)
		}
		return -1
	}, p)
}

// keyMatcher decides which keys are secret.
type keyMatcher struct {
	exact    map[string]bool // patterns without glob characters
	suffixes []string        // "*word" patterns, the common case, matched without path.Match
	globs    []string
	keep     []string // '!' patterns
	keepSufs []string // '!*word' patterns
	keepHits map[string]bool
}

func newKeyMatcher(patterns []string) *keyMatcher {
	m := &keyMatcher{exact: map[string]bool{}, keepHits: map[string]bool{}}
	for _, p := range expandDefault(patterns) {
		keep := strings.HasPrefix(strings.TrimSpace(p), "!")
		n := normalPattern(strings.TrimPrefix(strings.TrimSpace(p), "!"))
		switch {
		case n == "":
		case keep && strings.HasPrefix(n, "*") && !strings.ContainsAny(n[1:], "*?"):
			m.keepSufs = append(m.keepSufs, n[1:])
		case keep && strings.ContainsAny(n, "*?"):
			m.keep = append(m.keep, n)
		case keep:
			m.keepHits[n] = true
		case strings.HasPrefix(n, "*") && !strings.ContainsAny(n[1:], "*?"):
			m.suffixes = append(m.suffixes, n[1:])
		case strings.ContainsAny(n, "*?"):
			m.globs = append(m.globs, n)
		default:
			m.exact[n] = true
		}
	}
	return m
}

func expandDefault(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if strings.TrimSpace(p) == DefaultKeysEntry {
			out = append(out, DefaultRedactKeys...)
			continue
		}
		out = append(out, p)
	}
	return out
}

func (m *keyMatcher) empty() bool {
	return len(m.exact) == 0 && len(m.suffixes) == 0 && len(m.globs) == 0
}

// secret reports whether a key (not yet folded) names a secret.
func (m *keyMatcher) secret(key string) bool {
	return m.secretNormal(NormalKey(key))
}

func (m *keyMatcher) secretNormal(n string) bool {
	if n == "" || m.keepHits[n] {
		return false
	}
	for _, suf := range m.keepSufs {
		if strings.HasSuffix(n, suf) {
			return false
		}
	}
	for _, k := range m.keep {
		if ok, _ := path.Match(k, n); ok {
			return false
		}
	}
	if m.exact[n] {
		return true
	}
	for _, suf := range m.suffixes {
		if strings.HasSuffix(n, suf) {
			return true
		}
	}
	for _, g := range m.globs {
		if ok, _ := path.Match(g, n); ok {
			return true
		}
	}
	return false
}
