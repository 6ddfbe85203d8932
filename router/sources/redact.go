package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/auditbus/auditbus/router/ingest"
)

// Redacted replaces every secret value.
const Redacted = "[REDACTED]"

// DefaultRedactKeys are the keys whose values never reach the bus, compared
// case-insensitively: credentials that audit records are known to carry
// (login responses, request headers, API parameters).
var DefaultRedactKeys = []string{
	"access_token", "id_token", "refresh_token", "token", "password", "passwd",
	"secret", "secret_key", "secret_access_key", "client_secret", "tmp_secret_key",
	"security_token", "session_token", "authorization", "proxy-authorization",
	"x-auth-token", "x-subject-token", "x-api-key", "cookie", "set-cookie",
	"api_key", "private_key",
}

// queryOnlyKeys are redacted in URL query strings only: an OAuth
// authorization code is a credential there, while "code" elsewhere in audit
// records is a status.
var queryOnlyKeys = map[string]bool{"code": true}

// query redacts the values of secret parameters in a URL's query string,
// leaving the rest of the string as it was.
func (r *Redactor) query(s string) (any, bool) {
	q := strings.IndexByte(s, '?')
	params := strings.Split(s[q+1:], "&")
	changed := false
	for i, p := range params {
		name, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(name)
		if err != nil || !hasValue {
			continue
		}
		if key = normalKey(key); r.keys[key] || queryOnlyKeys[key] {
			params[i], changed = name+"="+Redacted, true
		}
	}
	if !changed {
		return s, false
	}
	return s[:q+1] + strings.Join(params, "&"), true
}

// Redactor replaces the values of secret keys in JSON records with
// Redacted, keeping the keys so readers see that a value was there.
type Redactor struct {
	keys map[string]bool
}

// NewRedactor redacts the given keys. Keys compare case-insensitively and
// ignoring '_' and '-', so "access_token" also catches accessToken and
// Access-Token, the spellings audit records mix. With no keys it redacts
// nothing.
func NewRedactor(keys []string) *Redactor {
	r := &Redactor{keys: make(map[string]bool, len(keys))}
	for _, k := range keys {
		r.keys[normalKey(k)] = true
	}
	return r
}

// normalKey folds a key's case and drops '_' and '-'.
func normalKey(k string) string {
	return strings.Map(func(c rune) rune {
		if c == '_' || c == '-' {
			return -1
		}
		return unicode.ToLower(c)
	}, strings.TrimSpace(k))
}

// JSON returns raw with secrets redacted: the input itself, byte for byte,
// when it holds none; otherwise the record re-encoded (numbers kept exact,
// object keys in sorted order). Beyond the keys it redacts inside JSON
// documents held in strings (CTS request/response, Tencent
// requestParameters) and the data and stringData values of a Kubernetes
// Secret.
func (r *Redactor) JSON(raw []byte) ([]byte, error) {
	if len(r.keys) == 0 {
		return raw, nil
	}
	v, err := decodeStrict(raw)
	if err != nil {
		return nil, &ingest.Error{Kind: ingest.ErrMalformed, Index: -1, Msg: fmt.Sprintf("record is not usable JSON: %v", err)}
	}
	out, changed := r.walk(v)
	if !changed {
		return raw, nil
	}
	return encode(out)
}

func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// walk returns v with secrets replaced and whether anything changed.
func (r *Redactor) walk(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return r.object(x)
	case []any:
		changed := false
		for i, el := range x {
			var c bool
			x[i], c = r.walk(el)
			changed = changed || c
		}
		return x, changed
	case string:
		return r.embedded(x)
	}
	return v, false
}

// object redacts a JSON object. A secret key counts as a change even when
// its decoded value is already null or redacted: with duplicate keys the
// decoder keeps only the last value, and the raw bytes must not be stored.
func (r *Redactor) object(m map[string]any) (any, bool) {
	changed := false
	for k, val := range m {
		if r.keys[normalKey(k)] {
			if val != nil {
				m[k] = Redacted
			}
			changed = true
			continue
		}
		var c bool
		m[k], c = r.walk(val)
		changed = changed || c
	}
	if secretValues(m) {
		changed = true
	}
	return m, changed
}

// secretValues redacts the values of Kubernetes Secrets, which carry no
// telltale key names: a Secret or SecretList object, and the request and
// response objects of an audit event about secrets (a patch or a list item
// has no kind of its own). It reports whether m held any.
func secretValues(m map[string]any) bool {
	kind, _ := m["kind"].(string)
	switch {
	case kind == "Secret":
		return redactSecretData(m)
	case kind == "SecretList":
		return redactItems(m)
	case !aboutSecrets(m):
		return false
	}
	found := false
	for k, v := range m {
		if !strings.EqualFold(k, "requestObject") && !strings.EqualFold(k, "responseObject") {
			continue
		}
		switch obj := v.(type) {
		case map[string]any:
			found = redactSecretData(obj) || found
			found = redactItems(obj) || found
		case []any: // a JSON Patch: every op's value may be secret data
			found = redactPatch(obj) || found
		}
	}
	return found
}

func redactPatch(ops []any) bool {
	found := false
	for _, op := range ops {
		if m, ok := op.(map[string]any); ok {
			if _, has := m["value"]; has {
				m["value"], found = Redacted, true
			}
		}
	}
	return found
}

// aboutSecrets reports whether m is an audit event whose objectRef (any
// key case, as ACP capitalizes it) names the secrets resource.
func aboutSecrets(m map[string]any) bool {
	for k, v := range m {
		ref, ok := v.(map[string]any)
		if !ok || !strings.EqualFold(k, "objectRef") {
			continue
		}
		for rk, rv := range ref {
			if strings.EqualFold(rk, "resource") && rv == "secrets" {
				return true
			}
		}
	}
	return false
}

func redactItems(m map[string]any) bool {
	found := false
	items, _ := m["items"].([]any)
	for _, it := range items {
		if obj, ok := it.(map[string]any); ok {
			found = redactSecretData(obj) || found
		}
	}
	return found
}

func redactSecretData(m map[string]any) bool {
	found := false
	for _, field := range []string{"data", "stringData"} {
		if values, ok := m[field].(map[string]any); ok {
			for k := range values {
				values[k], found = Redacted, true
			}
		}
	}
	return found
}

// embedded redacts inside a string holding a JSON object or array, which
// audit services use for request and response bodies, or a URL whose
// query carries credentials (a request URI with ?access_token=).
func (r *Redactor) embedded(s string) (any, bool) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') {
		if strings.Contains(s, "?") {
			return r.query(s)
		}
		return s, false
	}
	v, err := decodeStrict([]byte(t))
	if errors.Is(err, errDuplicateKey) {
		// Which copy counts is anyone's guess, and one may hold a secret.
		return Redacted, true
	}
	if err != nil {
		return s, false
	}
	out, changed := r.walk(v)
	if !changed {
		return s, false
	}
	b, err := encode(out)
	if err != nil {
		return s, false
	}
	return string(b), true
}
