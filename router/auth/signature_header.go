package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// sdkAuthorization is a parsed SDK-HMAC-SHA256 Authorization header.
type sdkAuthorization struct {
	access        string
	signedHeaders []string
	signature     [sha256.Size]byte
}

// maxAccessKeyLen bounds Access= (Huawei access keys are 20 characters).
const maxAccessKeyLen = 128

// parseSignatureAuthorization parses
// "SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2, Signature=hex": each of
// the three fields exactly once, in any order; SignedHeaders lower-case
// header names; Signature 64 hex digits.
func parseSignatureAuthorization(header string) (sdkAuthorization, error) {
	var a sdkAuthorization
	scheme, params, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, SignatureAlgorithm) {
		return a, fmt.Errorf("scheme %q, want %s", scheme, SignatureAlgorithm)
	}
	var seen [3]bool
	for field := range strings.SplitSeq(params, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return a, fmt.Errorf("field %q is not name=value", field)
		}
		i := slices.Index([]string{"Access", "SignedHeaders", "Signature"}, name)
		if i < 0 {
			return a, fmt.Errorf("unknown field %q", name)
		}
		if seen[i] {
			return a, fmt.Errorf("field %s given twice", name)
		}
		seen[i] = true
		var err error
		switch i {
		case 0:
			a.access, err = parseAccessKey(val)
		case 1:
			a.signedHeaders, err = parseSignedHeaders(val)
		case 2:
			err = parseSignatureHex(&a.signature, val)
		}
		if err != nil {
			return a, err
		}
	}
	for i, name := range []string{"Access", "SignedHeaders", "Signature"} {
		if !seen[i] {
			return a, fmt.Errorf("field %s missing", name)
		}
	}
	return a, nil
}

func parseAccessKey(s string) (string, error) {
	if s == "" || len(s) > maxAccessKeyLen {
		return "", fmt.Errorf("Access is %d bytes, want 1 to %d", len(s), maxAccessKeyLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == ',' || s[i] == ';' {
			return "", fmt.Errorf("Access has byte %#x at %d; want printable ASCII without space, ',' or ';'", s[i], i)
		}
	}
	return s, nil
}

func parseSignedHeaders(s string) ([]string, error) {
	names := strings.Split(s, ";")
	for _, n := range names {
		if n == "" {
			return nil, fmt.Errorf("SignedHeaders %q has an empty name", s)
		}
		for i := 0; i < len(n); i++ {
			if c := n[i]; !isHeaderNameByte(c) {
				return nil, fmt.Errorf("SignedHeaders name %q has byte %#x; want lower-case header names", n, c)
			}
		}
	}
	return names, nil
}

// isHeaderNameByte accepts RFC 9110 token bytes other than upper-case
// letters: the SDK signs names lower-cased.
func isHeaderNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func parseSignatureHex(dst *[sha256.Size]byte, s string) error {
	if len(s) != hex.EncodedLen(sha256.Size) {
		return fmt.Errorf("Signature is %d characters, want %d hex digits", len(s), hex.EncodedLen(sha256.Size))
	}
	if _, err := hex.Decode(dst[:], []byte(s)); err != nil {
		return fmt.Errorf("Signature: %w", err)
	}
	return nil
}
