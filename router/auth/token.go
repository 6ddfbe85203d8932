package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// TokenPrefix starts every token NewToken makes, so secret scanners and
// people can tell an auditbus token on sight.
const TokenPrefix = "abt_"

// hashPrefix starts a token hash in an auth file; it names the hash so
// another kind can be added without ambiguity.
const hashPrefix = "sha256:"

// NewToken returns a new random token (256 bits) and the hash to put in
// an auth file. A token is only ever shown once: the file keeps the hash.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the auth file's form of a token. Tokens are random and
// long, so a fast hash suffices: there is nothing to guess a preimage from.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hashPrefix + hex.EncodeToString(sum[:])
}
