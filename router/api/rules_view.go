package api

import (
	"encoding/json"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/sinks"
)

// ruleJSON is a rule as the rules endpoints show it. Target settings are
// never shown, since they can hold secrets: targets are id and kind only,
// and an API rule's document has its secrets masked.
type ruleJSON struct {
	Name        string       `json:"name"`
	Bus         string       `json:"bus"`
	Enabled     bool         `json:"enabled"`
	Description string       `json:"description,omitempty"`
	Origin      Origin       `json:"origin"`
	Targets     []targetJSON `json:"targets"`
	Expr        string       `json:"expr,omitempty"`
	// Running is false for an API rule whose stored document never
	// passed validation.
	Running  bool     `json:"running"`
	Revision uint64   `json:"revision,omitempty"`
	Document any      `json:"document,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

type targetJSON struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// State is set when the target is disabled (it answered 410 Gone).
	State *dispatch.TargetState `json:"state,omitempty"`
	// Backlog is set when deliveries wait for the target: how many, and
	// the age of the oldest (read every few seconds).
	Backlog *dispatch.Backlog `json:"backlog,omitempty"`
	// Topic is set for a topic target: what it runs as now.
	Topic *topicJSON `json:"topic,omitempty"`
}

// ruleView renders st; withDoc adds an API rule's masked document.
func ruleView(st StoredRule, withDoc bool) ruleJSON {
	v := ruleJSON{Name: st.Name, Bus: st.Bus, Origin: notificationOrigin(st), Targets: []targetJSON{}, Errors: st.Errors}
	if r := st.Rule; r != nil {
		v.Running, v.Enabled, v.Description, v.Expr = true, r.Enabled, r.Description, r.Expr()
		for _, t := range r.Targets {
			v.Targets = append(v.Targets, targetJSON{ID: t.ID, Kind: t.Kind})
		}
	}
	if st.Origin.Kind == OriginAPI {
		v.Revision = st.Revision
		if withDoc {
			v.Document = maskedDocument(st.Document)
		}
	}
	return v
}

// Masked replaces a secret in a shown document.
const Masked = sinks.Redacted

// secretWords mark a settings key whose value is masked wherever it
// appears in a key (ignoring case, '-' and '_'): "secret", "api_key",
// "X-Auth-Token", "Authorization"...
var secretWords = []string{"secret", "password", "passwd", "token", "key", "authorization", "cookie", "credential"}

// maskedDocument decodes a stored rule document with every secret under
// its targets masked: the values of secret-looking keys, and the password
// and query values of URLs. It is a JSON value, or the masked YAML text
// when the document has no JSON form; nil when it does not decode.
func maskedDocument(doc []byte) any {
	var root yaml.Node
	if yaml.Unmarshal(doc, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	if m := root.Content[0]; m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "targets" {
				mask(m.Content[i+1], 0)
			}
		}
	}
	var v any
	if err := root.Decode(&v); err == nil {
		if _, err := json.Marshal(v); err == nil {
			return v
		}
	}
	out, err := yaml.Marshal(&root)
	if err != nil {
		return nil
	}
	return string(out)
}

func mask(n *yaml.Node, depth int) {
	if depth > 50 {
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: Masked}
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch key, val := n.Content[i].Value, n.Content[i+1]; {
			case isSecretKey(key):
				*val = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: Masked}
			case strings.EqualFold(key, "url") && val.Kind == yaml.ScalarNode:
				val.Value = sinks.RedactURL(val.Value)
			}
		}
	}
	for _, c := range n.Content {
		mask(c, depth+1)
	}
}

func isSecretKey(key string) bool {
	k := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(key))
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
