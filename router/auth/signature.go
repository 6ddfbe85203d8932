package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SignatureAlgorithm is the Authorization scheme of requests signed the way
// Huawei Cloud's SDKs sign by default (HttpConfig's default signing algorithm
// HmacSHA256, no derived-key predicate): what CTS and HSS clients built with
// basic.Credentials send.
const SignatureAlgorithm = "SDK-HMAC-SHA256"

// SignatureDateHeader carries the signing time, in SignatureDateFormat (UTC).
const SignatureDateHeader = "X-Sdk-Date"

// SignatureDateFormat is the layout of SignatureDateHeader.
const SignatureDateFormat = "20060102T150405Z"

// ContentSHA256Header, when present, replaces the body's hash in the signed
// request; the SDK sets it to UnsignedPayload for bodies that are not JSON.
const ContentSHA256Header = "X-Sdk-Content-Sha256"

// UnsignedPayload is the ContentSHA256Header value that leaves a body
// unsigned. SignatureVerifier accepts it only on requests without a body.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// DefaultClockSkew is how far X-Sdk-Date may be from the verifier's clock,
// either way: what Huawei Cloud's API gateway allows.
const DefaultClockSkew = 15 * time.Minute

// DefaultSignatureMaxBodyBytes bounds the body read to hash it (1 MiB, the
// API's default body limit).
const DefaultSignatureMaxBodyBytes = 1 << 20

// ErrNoSignature reports a request without an SDK-HMAC-SHA256 Authorization
// header (nor another Huawei SDK scheme), so other credentials may be tried.
// It is returned bare, never inside a SignatureError.
var ErrNoSignature = errors.New("no SDK-HMAC-SHA256 signature")

// The reasons a SignatureError carries; test them with errors.Is. Every one
// means the request presented a signature and must be refused: 401, except
// ErrSignatureBodyTooLarge (413) and ErrSignatureBodyRead (the client went
// away or sent a short body: 400). ErrReplayed and ErrReplayCacheFull (see
// ReplayCache) are reasons too.
var (
	ErrSignatureMalformed    = errors.New("malformed SDK-HMAC-SHA256 Authorization header")
	ErrSignatureAlgorithm    = errors.New("unsupported signing algorithm")
	ErrSignatureUnsigned     = errors.New("required header not signed")
	ErrSignatureDate         = errors.New("missing or malformed X-Sdk-Date")
	ErrSignatureSkew         = errors.New("X-Sdk-Date outside the allowed clock skew")
	ErrSignatureUnknownKey   = errors.New("unknown access key")
	ErrSignatureBody         = errors.New("body does not match its signed hash")
	ErrSignatureBodyTooLarge = errors.New("body too large to verify")
	ErrSignatureMismatch     = errors.New("signature does not match")
	ErrSignatureBodyRead     = errors.New("reading the body failed")
)

// otherHuaweiSigningSchemes are the SDK's other algorithms (HttpConfig
// SigningAlgorithm HmacSM3, EcdsaP256SHA256, SM2SM3, and derived-key
// signing): recognised so that they get a clear ErrSignatureAlgorithm rather
// than ErrNoSignature, not verified.
var otherHuaweiSigningSchemes = []string{"SDK-HMAC-SM3", "SDK-ECDSA-P256-SHA256", "SDK-SM2-SM3", "V11-HMAC-SHA256"}

// SignatureError is the error of a refused signed request: Reason is one of
// the ErrSignature* sentinels, ErrReplayed or ErrReplayCacheFull; AccessKey is
// the key the request named, when it could be parsed; Detail says what was
// wrong, for logs (never for the client: it would help forge).
type SignatureError struct {
	Reason    error
	AccessKey string
	Detail    string
	cause     error
}

func (e *SignatureError) Error() string {
	msg := "signature refused: " + e.Reason.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.AccessKey != "" {
		msg += " (access key " + e.AccessKey + ")"
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the reason and, for I/O failures, the underlying error.
func (e *SignatureError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Reason, e.cause}
	}
	return []error{e.Reason}
}

// SignatureOption configures a SignatureVerifier.
type SignatureOption func(*SignatureVerifier)

// WithClockSkew sets how far X-Sdk-Date may be from now, either way
// (DefaultClockSkew when d <= 0). A signature is remembered for replay until
// its date plus the skew.
func WithClockSkew(d time.Duration) SignatureOption {
	return func(v *SignatureVerifier) {
		if d > 0 {
			v.skew = d
		}
	}
}

// WithNow sets the clock (time.Now by default).
func WithNow(now func() time.Time) SignatureOption {
	return func(v *SignatureVerifier) { v.now = now }
}

// WithMaxBodyBytes bounds the body read to hash it
// (DefaultSignatureMaxBodyBytes when n <= 0). Set it to at least the limit the
// handlers apply, or larger valid requests are refused here.
func WithMaxBodyBytes(n int64) SignatureOption {
	return func(v *SignatureVerifier) {
		if n > 0 {
			v.maxBody = n
		}
	}
}

// WithReplayCache sets the cache of used signatures. The default is a
// NewReplayCache(0) owned by the verifier; pass one to share it between
// verifiers built over time, since a fresh cache accepts every signature of
// the last skew window once more.
func WithReplayCache(c *ReplayCache) SignatureOption {
	return func(v *SignatureVerifier) { v.replay = c }
}

// SignatureVerifier checks requests signed with an access key pair the way
// Huawei Cloud's SDKs sign (SDK-HMAC-SHA256), with a bounded clock skew and
// each signature accepted once. It is safe for concurrent use.
type SignatureVerifier struct {
	lookup  func(accessKey string) (secretKey []byte, ok bool)
	skew    time.Duration
	now     func() time.Time
	maxBody int64
	replay  *ReplayCache
}

// NewSignatureVerifier returns a verifier that finds secret keys with lookup,
// called once per signed request (so it may read a configuration that
// reloads) and never with an empty key.
func NewSignatureVerifier(lookup func(accessKey string) (secretKey []byte, ok bool), opts ...SignatureOption) *SignatureVerifier {
	v := &SignatureVerifier{lookup: lookup, skew: DefaultClockSkew, now: time.Now, maxBody: DefaultSignatureMaxBodyBytes}
	for _, o := range opts {
		o(v)
	}
	if v.replay == nil {
		v.replay = NewReplayCache(0)
	}
	return v
}

// Verify checks r's signature and returns the access key it was made with.
// It reads the body (at most the configured maximum) to hash it and leaves
// r.Body readable again from the start. X-Sdk-Date must be signed and within
// the skew; Host need not be, since the SDK signs it only when the caller
// adds a Host header (then it is checked against r.Host). Headers the SDK
// leaves unsigned (Content-Type, names with '_', and any the client did not
// list) are not protected. Each signature is accepted once: since X-Sdk-Date
// has one-second resolution, a client sending byte-identical requests within
// the same second has the second refused as ErrReplayed. Errors:
// ErrNoSignature when r carries no Huawei SDK signature; otherwise a
// *SignatureError whose Reason tells why.
func (v *SignatureVerifier) Verify(r *http.Request) (accessKey string, err error) {
	a, err := findAuthorization(r.Header)
	if err != nil {
		return "", err
	}
	date, err := v.checkDate(r.Header, a)
	if err != nil {
		return "", err
	}
	secret, ok := v.lookup(a.access)
	if !ok {
		return "", sigErr(ErrSignatureUnknownKey, a.access, "")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", sigErr(ErrSignatureMalformed, a.access, "query: "+err.Error())
	}
	contentHash, err := v.contentHash(r, a.access)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, secret)
	writeStringToSign(mac, r, query, a, date, contentHash)
	if !hmac.Equal(mac.Sum(nil), a.signature[:]) {
		return "", sigErr(ErrSignatureMismatch, a.access, "")
	}
	now := v.now()
	if err := v.replay.Remember(a.access, a.signature, date.Add(v.skew), now); err != nil {
		return "", sigErr(err, a.access, "")
	}
	return a.access, nil
}

func sigErr(reason error, access, detail string) *SignatureError {
	return &SignatureError{Reason: reason, AccessKey: access, Detail: detail}
}

// findAuthorization returns the one SDK-HMAC-SHA256 Authorization of h.
func findAuthorization(h http.Header) (sdkAuthorization, error) {
	values := h.Values("Authorization")
	for _, val := range values {
		scheme, _, _ := strings.Cut(val, " ")
		if slices.ContainsFunc(otherHuaweiSigningSchemes, func(s string) bool { return strings.EqualFold(s, scheme) }) {
			return sdkAuthorization{}, sigErr(ErrSignatureAlgorithm, "", fmt.Sprintf("%q (only %s is supported)", scheme, SignatureAlgorithm))
		}
		if !strings.EqualFold(scheme, SignatureAlgorithm) {
			continue
		}
		if len(values) > 1 {
			return sdkAuthorization{}, sigErr(ErrSignatureMalformed, "", fmt.Sprintf("%d Authorization headers", len(values)))
		}
		a, err := parseSignatureAuthorization(val)
		if err != nil {
			return sdkAuthorization{}, sigErr(ErrSignatureMalformed, "", err.Error())
		}
		return a, nil
	}
	return sdkAuthorization{}, ErrNoSignature
}

func (v *SignatureVerifier) checkDate(h http.Header, a sdkAuthorization) (time.Time, error) {
	if !slices.Contains(a.signedHeaders, "x-sdk-date") {
		return time.Time{}, sigErr(ErrSignatureUnsigned, a.access, "x-sdk-date not in SignedHeaders")
	}
	dates := h.Values(SignatureDateHeader)
	if len(dates) != 1 {
		return time.Time{}, sigErr(ErrSignatureDate, a.access, fmt.Sprintf("%d X-Sdk-Date headers, want 1", len(dates)))
	}
	date, err := time.Parse(SignatureDateFormat, strings.TrimSpace(dates[0]))
	if err != nil {
		return time.Time{}, sigErr(ErrSignatureDate, a.access, fmt.Sprintf("%q is not in the format %s", dates[0], SignatureDateFormat))
	}
	now := v.now()
	if d := now.Sub(date); d > v.skew || d < -v.skew {
		return time.Time{}, sigErr(ErrSignatureSkew, a.access,
			fmt.Sprintf("dated %s, %s from now, more than %s", dates[0], d.Round(time.Second), v.skew))
	}
	return date, nil
}

// contentHash reads and restores r.Body and returns the hash the signer used
// for it: the ContentSHA256Header when present (which must then match the
// body, or be UnsignedPayload on an empty body), else the body's SHA-256.
func (v *SignatureVerifier) contentHash(r *http.Request, access string) (string, error) {
	body, err := v.readBody(r, access)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	claimed := r.Header.Values(ContentSHA256Header)
	switch {
	case len(claimed) == 0:
		return actual, nil
	case len(claimed) > 1:
		return "", sigErr(ErrSignatureBody, access, fmt.Sprintf("%d %s headers", len(claimed), ContentSHA256Header))
	case claimed[0] == UnsignedPayload && len(body) > 0:
		return "", sigErr(ErrSignatureBody, access, UnsignedPayload+" with a body of "+fmt.Sprint(len(body))+" bytes")
	case claimed[0] != UnsignedPayload && !strings.EqualFold(claimed[0], actual):
		return "", sigErr(ErrSignatureBody, access, ContentSHA256Header+" differs from the body's SHA-256")
	}
	return claimed[0], nil
}

func (v *SignatureVerifier) readBody(r *http.Request, access string) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > v.maxBody {
		return nil, sigErr(ErrSignatureBodyTooLarge, access, fmt.Sprintf("Content-Length %d, limit %d", r.ContentLength, v.maxBody))
	}
	var body []byte
	var err error
	if r.ContentLength > 0 {
		// net/http ends the body at Content-Length, so one exact read does.
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, v.maxBody+1))
	}
	if err != nil {
		e := sigErr(ErrSignatureBodyRead, access, "")
		e.cause = err
		return nil, e
	}
	if int64(len(body)) > v.maxBody {
		return nil, sigErr(ErrSignatureBodyTooLarge, access, fmt.Sprintf("more than %d bytes", v.maxBody))
	}
	if len(body) == 0 {
		r.Body = http.NoBody
		return nil, nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// writeStringToSign writes what the SDK signs: the algorithm, the date and
// the SHA-256 of the canonical request, each on its line.
func writeStringToSign(w io.Writer, r *http.Request, query url.Values, a sdkAuthorization, date time.Time, contentHash string) {
	canonical := sha256.New()
	writeCanonicalRequest(canonical, r, query, a.signedHeaders, contentHash)
	var sum [sha256.Size]byte
	buf := make([]byte, 0, len(SignatureAlgorithm)+len(SignatureDateFormat)+2+hex.EncodedLen(sha256.Size))
	buf = append(buf, SignatureAlgorithm+"\n"...)
	buf = date.UTC().AppendFormat(buf, SignatureDateFormat)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, canonical.Sum(sum[:0]))
	w.Write(buf)
}

// writeCanonicalRequest writes the SDK's canonical request: method, URI,
// query, headers, signed header names and content hash, one per line.
func writeCanonicalRequest(w io.Writer, r *http.Request, query url.Values, signedHeaders []string, contentHash string) {
	buf := make([]byte, 0, 512)
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	buf = appendCanonicalURI(buf, r.URL.Path)
	buf = append(buf, '\n')
	buf = appendCanonicalQuery(buf, query)
	buf = append(buf, '\n')
	buf = appendCanonicalHeaders(buf, r, signedHeaders)
	buf = append(buf, '\n')
	for i, h := range signedHeaders {
		if i > 0 {
			buf = append(buf, ';')
		}
		buf = append(buf, h...)
	}
	buf = append(buf, '\n')
	buf = append(buf, contentHash...)
	w.Write(buf)
}

// appendCanonicalURI appends path with each segment escaped and a trailing
// slash, as the SDK does: so /a and /a/ sign alike (the replay cache still
// accepts a signature once).
func appendCanonicalURI(buf []byte, path string) []byte {
	for {
		seg, rest, more := strings.Cut(path, "/")
		buf = appendEscaped(buf, seg)
		if !more {
			break
		}
		buf = append(buf, '/')
		path = rest
	}
	if len(buf) == 0 || buf[len(buf)-1] != '/' {
		buf = append(buf, '/')
	}
	return buf
}

// appendCanonicalQuery appends key=value pairs sorted by raw key, then raw
// value, each escaped, joined with '&'; a key without a value signs as "k=".
func appendCanonicalQuery(buf []byte, query url.Values) []byte {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	first := true
	for _, k := range keys {
		values := query[k]
		if len(values) > 1 {
			values = slices.Sorted(slices.Values(values))
		}
		for _, val := range values {
			if !first {
				buf = append(buf, '&')
			}
			first = false
			buf = appendEscaped(buf, k)
			buf = append(buf, '=')
			buf = appendEscaped(buf, val)
		}
	}
	return buf
}

// appendCanonicalHeaders appends "name:value\n" for each signed header and
// each of its values (sorted, then trimmed), in SignedHeaders order; "host"
// is r.Host, which net/http moves out of r.Header. A signed header the
// request lacks contributes nothing, as with the SDK.
func appendCanonicalHeaders(buf []byte, r *http.Request, signedHeaders []string) []byte {
	for _, name := range signedHeaders {
		var values []string
		if name == "host" {
			values = []string{r.Host}
		} else {
			values = r.Header.Values(name)
		}
		if len(values) > 1 {
			values = slices.Sorted(slices.Values(values))
		}
		for _, val := range values {
			buf = append(buf, name...)
			buf = append(buf, ':')
			buf = append(buf, strings.TrimSpace(val)...)
			buf = append(buf, '\n')
		}
	}
	return buf
}

// appendEscaped percent-encodes every byte but A-Z a-z 0-9 - _ . ~ with
// upper-case hex, the SDK's (and RFC 3986's unreserved) rule.
func appendEscaped(buf []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			buf = append(buf, c)
		} else {
			buf = append(buf, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return buf
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
