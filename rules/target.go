package rules

import (
	"math"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxConcurrency bounds a target's concurrency setting: each unit is a
// worker goroutine and a message JetStream keeps pending for it.
const MaxConcurrency = 1000

var kindRe = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

func (rp *ruleParser) targets(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		rp.fail(n, "targets must be a non-empty list")
		return
	}
	ids := map[string]bool{}
	for _, item := range n.Content {
		t, ok := rp.target(deref(item))
		if !ok {
			continue
		}
		if ids[t.ID] {
			rp.fail(item, "duplicate target id %q", t.ID)
			continue
		}
		ids[t.ID] = true
		rp.r.Targets = append(rp.r.Targets, t)
	}
}

func (rp *ruleParser) target(n *yaml.Node) (Target, bool) {
	t := Target{Pos: rp.pos(n)}
	if n.Kind != yaml.MappingNode {
		rp.fail(n, "target must be a mapping")
		return t, false
	}
	before := len(rp.errs)
	var kindKey, input *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := deref(n.Content[i]), deref(n.Content[i+1])
		switch key.Value {
		case "id":
			if s, ok := rp.str(val, "target id"); ok && !nameRe.MatchString(s) {
				rp.fail(val, "target id %q must match %s", s, nameRe)
			} else {
				t.ID = s
			}
		case "input":
			t.Input, _ = rp.str(val, "input")
			input = val
		case "retry":
			t.Retry = rp.retry(val)
		case "rate":
			t.Rate = rp.rate(val)
		case "concurrency":
			if val.ShortTag() != "!!int" || val.Decode(&t.Concurrency) != nil || t.Concurrency < 1 || t.Concurrency > MaxConcurrency {
				rp.fail(val, "concurrency must be an integer from 1 to %d", MaxConcurrency)
			}
		default:
			if kindKey != nil {
				rp.fail(key, "target has more than one kind: %q and %q", kindKey.Value, key.Value)
				continue
			}
			kindKey = key
			rp.kind(&t, key, val)
		}
	}
	if t.ID == "" && len(rp.errs) == before {
		rp.fail(n, "target is missing its id")
	}
	if kindKey == nil {
		rp.fail(n, "target has no kind (webhook, function, nats, log, ...)")
	}
	if input != nil && t.ID != "" {
		rp.inputNodes[t.ID] = input
	}
	return t, len(rp.errs) == before
}

func (rp *ruleParser) kind(t *Target, key, val *yaml.Node) {
	if key.Kind != yaml.ScalarNode || !kindRe.MatchString(key.Value) {
		rp.fail(key, "unknown target field %q", key.Value)
		return
	}
	t.Kind = key.Value
	switch {
	case isNull(val):
		t.Config = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: val.Line, Column: val.Column}
	case val.Kind == yaml.MappingNode:
		rp.expand(val, map[*yaml.Node]bool{})
		t.Config = *cloneNode(val)
	default:
		rp.fail(val, "%s target settings must be a mapping", key.Value)
		return
	}
	if rp.opts.targetCheck != nil {
		if err := rp.opts.targetCheck(t.Kind, &t.Config); err != nil {
			rp.fail(key, "%s target: %v", t.Kind, err)
		}
	}
}

func (rp *ruleParser) retry(n *yaml.Node) *Retry {
	if n.Kind != yaml.MappingNode {
		rp.fail(n, "retry must be a mapping with max_attempts and/or max_age")
		return nil
	}
	r := &Retry{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := deref(n.Content[i]), deref(n.Content[i+1])
		switch key.Value {
		case "max_attempts":
			if val.ShortTag() != "!!int" || val.Decode(&r.MaxAttempts) != nil || r.MaxAttempts < 1 {
				rp.fail(val, "max_attempts must be a positive integer")
			}
		case "max_age":
			d, err := time.ParseDuration(val.Value)
			if val.Kind != yaml.ScalarNode || err != nil || d <= 0 {
				rp.fail(val, "max_age must be a positive duration such as 30m or 2h")
			}
			r.MaxAge = d
		default:
			rp.fail(key, "unknown retry field %q", key.Value)
		}
	}
	return r
}

func (rp *ruleParser) rate(n *yaml.Node) *Rate {
	if n.Kind != yaml.MappingNode {
		rp.fail(n, "rate must be a mapping with per_second and optionally burst")
		return nil
	}
	r := &Rate{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := deref(n.Content[i]), deref(n.Content[i+1])
		switch key.Value {
		case "per_second":
			if (val.ShortTag() != "!!int" && val.ShortTag() != "!!float") || val.Decode(&r.PerSecond) != nil || !(r.PerSecond > 0) {
				rp.fail(val, "per_second must be a positive number")
			}
		case "burst":
			if val.ShortTag() != "!!int" || val.Decode(&r.Burst) != nil || r.Burst < 1 {
				rp.fail(val, "burst must be a positive integer")
			}
		default:
			rp.fail(key, "unknown rate field %q", key.Value)
		}
	}
	if r.PerSecond == 0 {
		rp.fail(n, "rate needs per_second")
	}
	if r.Burst == 0 {
		r.Burst = max(1, int(math.Ceil(r.PerSecond)))
	}
	return r
}

var varRef = regexp.MustCompile(`\$\{([^}]*)\}?`)
var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// cloneNode copies n and the nodes below it (aliases are kept as they
// are), so that a rule's settings do not keep the block of nodes the
// document was read into (nodeArena) alive.
func cloneNode(n *yaml.Node) *yaml.Node {
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			c.Content[i] = cloneNode(k)
		}
	}
	return &c
}

// expand replaces ${NAME} in the string values of a target's settings. A
// plain (unquoted) scalar gets its tag re-resolved afterwards, so that
// `port: ${PORT}` decodes as a number while `"${PORT}"` stays a string.
func (rp *ruleParser) expand(n *yaml.Node, seen map[*yaml.Node]bool) {
	if seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			rp.expand(n.Content[i], seen)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			rp.expand(c, seen)
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" && strings.Contains(n.Value, "${") {
			rp.expandScalar(n)
		}
	}
}

func (rp *ruleParser) expandScalar(n *yaml.Node) {
	ok := true
	out := varRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
		name := strings.TrimSuffix(strings.TrimPrefix(ref, "${"), "}")
		if !strings.HasSuffix(ref, "}") || !varName.MatchString(name) {
			rp.fail(n, "malformed environment reference %q; use ${NAME}", ref)
			ok = false
			return ref
		}
		v, set := rp.opts.lookupEnv(name)
		if !set {
			rp.fail(n, "environment variable %q is not set", name)
			ok = false
		}
		return v
	})
	if !ok {
		return
	}
	n.Value = out
	if n.Style == 0 {
		n.Tag = ""
	}
}
