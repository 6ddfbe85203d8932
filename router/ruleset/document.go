package ruleset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/rules"
)

// nameRe is the syntax of rule and bus names (rules.ParseFile checks the
// same).
var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// envRefused is the message for a ${NAME} reference in an API rule.
const envRefused = "environment references (${NAME}) are not expanded in rules managed through the API, since an API caller could copy the server's environment into a target with them; write the value itself, or define the rule in a rule file"

// parseDocument validates doc as the API rule name of bus, exactly as a
// rule file is validated plus two API rules: the document holds one rule,
// and ${NAME} references are refused. The document must name the same
// rule and bus as the caller or leave them out: they are then filled in.
// An empty name or bus is no constraint. It returns the rule and the
// document to store; problems are rules.Errors positioned in doc as given.
func (m *Manager) parseDocument(bus, name string, doc []byte) (*rules.Rule, []byte, error) {
	label := "request"
	if bus != "" && name != "" {
		label = apiLabel(bus + "." + name)
	}
	root, errs := singleMapping(label, doc)
	if errs != nil {
		return nil, nil, errs
	}
	filled, back := doc, func(p rules.Position) rules.Position { return p }
	if root != nil {
		fields, errs := identity(label, root, bus, name)
		if errs != nil {
			return nil, nil, errs
		}
		filled, back = insertFields(doc, root, fields)
	}
	opts := append(slices.Clone(m.opts.parseOpts), rules.WithLookupEnv(func(string) (string, bool) { return "", false }))
	v, errs := m.parseSource(label, filled, opts)
	if errs != nil {
		for _, e := range errs {
			e.Pos = back(e.Pos)
		}
		return nil, nil, sorted(refuseEnv(errs, envRefs(root)))
	}
	r := v.rules[0]
	// The parsed rule decides, not the node identity looked at: an alias
	// (bus: *b) or an empty document before the rule must not carry it to
	// another bus or name than the one it is stored under.
	for _, want := range []field{{"name", name}, {"bus", bus}} {
		got := map[string]string{"name": r.Name, "bus": r.Bus}[want.key]
		if want.value != "" && got != want.value {
			return nil, nil, rules.Errors{{Pos: rules.Position{File: label, Line: 1, Col: 1}, Rule: name,
				Msg: fmt.Sprintf("%s %q differs from %q, the %s the rule is stored under (the URL's or the key's)", want.key, got, want.value, want.key)}}
		}
	}
	return r, filled, nil
}

// singleMapping returns the document's one mapping. A document that does
// not decode, or whose root is not a mapping, gives a nil node and no
// error: rules.ParseFile reports those. No document, or several, is an
// error here.
func singleMapping(label string, doc []byte) (*yaml.Node, rules.Errors) {
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var roots []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil
		}
		if len(n.Content) > 0 && n.Content[0].ShortTag() != "!!null" {
			roots = append(roots, n.Content[0])
		}
	}
	switch {
	case len(roots) == 0:
		return nil, rules.Errors{{Pos: rules.Position{File: label, Line: 1, Col: 1}, Msg: "the document holds no rule"}}
	case len(roots) > 1:
		return nil, rules.Errors{{Pos: rules.Position{File: label, Line: roots[1].Line, Col: roots[1].Column},
			Msg: fmt.Sprintf("the document holds %d rules; send one per request", len(roots))}}
	case roots[0].Kind != yaml.MappingNode:
		return nil, nil
	}
	return roots[0], nil
}

// field is a top-level key to add to a document.
type field struct{ key, value string }

// identity checks the document's name and bus against the caller's and
// returns the ones to fill in.
func identity(label string, root *yaml.Node, bus, name string) ([]field, rules.Errors) {
	var fill []field
	var errs rules.Errors
	for _, want := range []field{{"name", name}, {"bus", bus}} {
		if want.value == "" {
			continue
		}
		v := lookup(root, want.key)
		switch {
		case v == nil && (want.key == "name" || want.value != rules.DefaultBus):
			fill = append(fill, want)
		case v != nil && v.Kind == yaml.ScalarNode && v.Value != want.value:
			errs = append(errs, &rules.Error{Pos: rules.Position{File: label, Line: v.Line, Col: v.Column}, Rule: name,
				Msg: fmt.Sprintf("%s %q differs from %q, the %s the rule is stored under (the URL's or the key's)", want.key, v.Value, want.value, want.key)})
		}
	}
	return fill, errs
}

// lookup returns the value of key in mapping n, nil when absent.
func lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// envRefs are the positions of the string values in targets' settings that
// hold "${": those rules.ParseFile tries to expand.
func envRefs(root *yaml.Node) map[[2]int]bool {
	refs := map[[2]int]bool{}
	if root == nil {
		return refs
	}
	targets := lookup(root, "targets")
	if targets == nil || targets.Kind != yaml.SequenceNode {
		return refs
	}
	for _, t := range targets.Content {
		if t.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(t.Content); i += 2 {
			switch t.Content[i].Value {
			case "id", "input", "retry":
			default:
				collectRefs(t.Content[i+1], refs, 0)
			}
		}
	}
	return refs
}

func collectRefs(n *yaml.Node, refs map[[2]int]bool, depth int) {
	if depth > 50 {
		return
	}
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		refs[[2]int{n.Line, n.Column}] = true
	}
	for _, c := range n.Content {
		collectRefs(c, refs, depth+1)
	}
}

// refuseEnv rewrites the errors rules.ParseFile reports at ${NAME}
// references (a variable it could not find, since API rules see none)
// into the reason, once per position.
func refuseEnv(errs rules.Errors, refs map[[2]int]bool) rules.Errors {
	out := errs[:0]
	seen := map[[2]int]bool{}
	for _, e := range errs {
		at := [2]int{e.Pos.Line, e.Pos.Col}
		if refs[at] {
			if seen[at] {
				continue
			}
			seen[at] = true
			e.Msg = envRefused
		}
		out = append(out, e)
	}
	return out
}
