package sources

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxEmbedDepth bounds documents inside strings inside documents: every
// level costs a decode and an encode, and real records nest two or three
// (a Tencent RunInstancePara inside requestParameters). A document deeper
// than that is replaced whole: its escaping defeats the value detectors.
const maxEmbedDepth = 8

// yamlLine is a line of a YAML mapping: "key: value", "key:" or "- key: v".
var yamlLine = regexp.MustCompile(`(?m)^[ \t]*(?:- )?[A-Za-z_][A-Za-z0-9_.\-/]*:(?:[ \t]|$)`)

// embedded redacts a string: inside the JSON or YAML document it holds,
// or else by the value detectors.
func (r *Redactor) embedded(s string, embed int) (any, bool) {
	if len(s) < 4 {
		return s, false
	}
	if t := strings.TrimSpace(s); embed >= maxEmbedDepth && t != "" && (t[0] == '{' || t[0] == '[') && s != Redacted {
		return Redacted, true
	}
	if embed < maxEmbedDepth {
		if out, changed, ok := r.embeddedJSON(s, embed); ok {
			return out, changed
		}
		if out, changed, ok := r.embeddedYAML(s, embed); ok {
			return out, changed
		}
	}
	return r.text(s)
}

// embeddedJSON handles a string holding a JSON object or array; ok is
// false when it holds none.
func (r *Redactor) embeddedJSON(s string, embed int) (string, bool, bool) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') {
		return s, false, false
	}
	if r.unchanged(t, embed+1) {
		return s, false, true
	}
	v, err := decodeStrict([]byte(t))
	if errors.Is(err, errDuplicateKey) {
		// Which copy counts is anyone's guess, and one may hold a secret.
		return Redacted, s != Redacted, true
	}
	if err != nil {
		return s, false, false
	}
	out, changed := r.walk(v, embed+1)
	if !changed {
		return s, false, true
	}
	b, err := encode(out)
	if err != nil {
		return Redacted, true, true
	}
	return string(b), true, true
}

// embeddedYAML handles a string of several lines that parses as YAML
// mappings or sequences (one or more documents): manifests, Helm values,
// application.yaml in a ConfigMap.
func (r *Redactor) embeddedYAML(s string, embed int) (string, bool, bool) {
	if !strings.Contains(s, "\n") || !yamlLine.MatchString(s) {
		return s, false, false
	}
	var docs []any
	dec := yaml.NewDecoder(strings.NewReader(s))
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s, false, false
		}
		switch doc.(type) {
		case map[string]any, map[any]any, []any:
		default:
			return s, false, false // a plain scalar: text, not YAML
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		return s, false, false
	}
	changed := false
	for i, doc := range docs {
		var c bool
		docs[i], c = r.walk(doc, embed+1)
		changed = changed || c
	}
	if !changed {
		return s, false, true
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, doc := range docs {
		if err := enc.Encode(doc); err != nil {
			return Redacted, true, true
		}
	}
	if err := enc.Close(); err != nil {
		return Redacted, true, true
	}
	return b.String(), true, true
}
