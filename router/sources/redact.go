package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unsafe"

	"github.com/auditbus/auditbus/router/ingest"
)

// Redacted replaces every secret value.
const Redacted = "[REDACTED]"

// Redactor replaces the secrets in JSON records with Redacted, keeping
// keys and the text around a secret so readers see that a value was there.
// It is safe for concurrent use.
type Redactor struct {
	keys *keyMatcher
}

// NewRedactor redacts the values of keys matching patterns (see
// DefaultRedactKeys for the syntax; the entry DefaultKeysEntry stands for
// the defaults) and, while any pattern is given, every value detector
// (private keys, JWTs, HTTP credentials, URL passwords, secret name=value
// assignments, known token formats) and Kubernetes Secret data. With no
// patterns it redacts nothing.
func NewRedactor(patterns []string) *Redactor {
	return &Redactor{keys: newKeyMatcher(patterns)}
}

// On reports whether r redacts anything.
func (r *Redactor) On() bool { return !r.keys.empty() }

// JSON returns raw with secrets redacted: the input itself, byte for byte,
// when it holds none; otherwise the record re-encoded (numbers kept exact,
// object keys in sorted order, HTML characters unescaped). It looks inside
// JSON and YAML documents held in strings (CTS request/response, Tencent
// requestParameters, the last-applied-configuration annotation, manifests
// and properties files in ConfigMaps), up to maxEmbedDepth documents deep.
// A record that is not JSON, names a key twice or nests deeper than
// maxDepth is an *ingest.Error of kind ErrMalformed.
func (r *Redactor) JSON(raw []byte) ([]byte, error) {
	if !r.On() {
		return raw, nil
	}
	// Most records hold no secret: proving so in one pass over the bytes
	// costs a fraction of decoding them. The string view of raw lives
	// only for the scan, which keeps none of it, and raw is not written
	// meanwhile.
	if len(raw) > 0 && r.unchanged(unsafe.String(unsafe.SliceData(raw), len(raw)), 0) {
		return raw, nil
	}
	v, err := decodeStrict(raw)
	if err != nil {
		return nil, &ingest.Error{Kind: ingest.ErrMalformed, Index: -1, Msg: fmt.Sprintf("record is not usable JSON: %v", err)}
	}
	out, changed := r.walk(v, 0)
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

// walk returns v with secrets replaced and whether anything changed;
// embed counts the documents-in-strings around v.
func (r *Redactor) walk(v any, embed int) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return r.object(x, embed)
	case map[any]any: // YAML with keys that are not strings
		changed := false
		for k, val := range x {
			var c bool
			if ks, ok := k.(string); ok && r.keys.secret(ks) {
				x[k], c = redactValue(val)
			} else {
				x[k], c = r.walk(val, embed)
			}
			changed = changed || c
		}
		return x, changed
	case []any:
		changed := false
		for i, el := range x {
			var c bool
			if i > 0 && r.secretFlag(x[i-1]) {
				x[i], c = redactValue(el)
			} else {
				x[i], c = r.walk(el, embed)
			}
			changed = changed || c
		}
		return x, changed
	case string:
		return r.embedded(x, embed)
	}
	return v, false
}

// secretFlag reports whether v is a command-line flag naming a secret
// whose value is the next argument: args: ["--api-token", "..."].
func (r *Redactor) secretFlag(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, "-") && !strings.ContainsAny(s, "= ") && r.keys.secret(s)
}

// redactValue is what a secret key's value becomes: Redacted, except for
// null and booleans, which carry no secret (passwordless: true) and which
// rules may test.
func redactValue(v any) (any, bool) {
	switch v {
	case nil, true, false, Redacted:
		return v, false
	}
	if l, ok := v.([]any); ok && len(l) == 1 && l[0] == "REDACTED" {
		// "key: [REDACTED]", written by the value detectors into text
		// that then parses as YAML: already redacted.
		return v, false
	}
	return Redacted, true
}

// object redacts a JSON object: secret keys, name/value pairs whose name
// is secret, Kubernetes Secret data, and whatever its values hold.
func (r *Redactor) object(m map[string]any, embed int) (any, bool) {
	changed := false
	pairValue := r.secretPair(m)
	for k, val := range m {
		var c bool
		if (r.keys.secret(k) && !secretReference(val)) || pairValue != "" && strings.EqualFold(k, pairValue) {
			m[k], c = redactValue(val)
		} else {
			m[k], c = r.walk(val, embed)
		}
		changed = changed || c
	}
	if secretValues(m) {
		changed = true
	}
	return m, changed
}

// referenceKeys are the fields of a Kubernetes reference to a Secret (a
// volume's or projected volume's secret: {secretName, items, ...}), which
// names the Secret and holds no value of it.
var referenceKeys = []string{"secretname", "name", "items", "defaultmode", "optional", "key", "path", "mode"}

// secretReference reports whether v, under a secret-looking key, is a
// reference to a Secret, which rules match on (secretName), rather than
// the secret itself: then it is walked, not replaced whole.
func secretReference(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	for k := range m {
		if !isOneOf(NormalKey(k), referenceKeys) {
			return false
		}
	}
	_, named := m["secretName"]
	_, name := m["name"]
	return named || name
}

// pairNames and pairValues are the keys (folded) of name/value pairs:
// Kubernetes env and header lists ({"name": "DB_PASSWORD", "value": ...}),
// tag and label lists ({"Key": ..., "Value": ...}), CloudFormation and
// ROS parameters ({"ParameterKey": ..., "ParameterValue": ...}).
var (
	pairNames  = []string{"name", "key", "parametername", "parameterkey", "headername"}
	pairValues = []string{"value", "parametervalue", "headervalue"}
)

// secretPair returns the key of m's value when m is a name/value pair
// whose name is secret, else "".
func (r *Redactor) secretPair(m map[string]any) string {
	if len(m) > 8 {
		return ""
	}
	secret := false
	for k, v := range m {
		if s, ok := v.(string); ok && isOneOf(NormalKey(k), pairNames) && r.keys.secret(s) {
			secret = true
		}
	}
	if !secret {
		return ""
	}
	for k := range m {
		if isOneOf(NormalKey(k), pairValues) {
			return k
		}
	}
	return ""
}

func isOneOf(s string, list []string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
}
