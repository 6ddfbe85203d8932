package rules

import (
	"encoding/json"
	"strings"
)

// boundNeeds is a condition's needs bound to an index's field tree.
type boundNeeds struct {
	attrs []namedNode
	data  []namedNode
	whole bool
}

type namedNode struct {
	name string
	node int32
}

// bindNeeds adds what a rule's condition reads to the field tree, so the
// scan records it.
func (x *busIndex) bindNeeds(r *Rule) boundNeeds {
	if r.cond == nil {
		return boundNeeds{}
	}
	n := needsOf(r.cond)
	b := boundNeeds{whole: n.whole}
	for _, a := range n.attrs {
		b.attrs = append(b.attrs, namedNode{a, x.tree.add([]string{a}).id})
	}
	for _, k := range n.data {
		node := x.tree.node([]string{"data", k})
		node.raw = true
		b.data = append(b.data, namedNode{k, node.id})
	}
	return b
}

// attributeValue is a scanned attribute as NewEnv holds it: a string, or an
// extension's bool or int32.
func attributeValue(v value) any {
	switch v.kind {
	case kBool:
		return v.b
	case kNumber:
		return int32(v.num)
	}
	// Clone: the scan's strings alias the event bytes, and expr may keep
	// what it is given in errors.
	return strings.Clone(v.str)
}

// condEnv is the environment rule id's condition runs on: only the parts
// it reads, decoded from the scan, or the full NewEnv when it reads data or
// the environment as a whole, or when the event took the slow path. Both
// answer every expression the condition can evaluate alike.
func (x *busIndex) condEnv(id int32, raw []byte, st *state) (Env, error) {
	need := &x.needs[id]
	if st.env == nil && (need.whole || (len(need.data) > 0 && st.dataKind != 'o')) {
		env, err := decodeEnv(raw)
		if err != nil {
			return nil, err
		}
		st.env = env
	}
	if st.env != nil {
		return st.env, nil
	}
	env := make(Env, len(need.attrs)+1)
	for _, a := range need.attrs {
		if vals := st.vals[a.node]; len(vals) > 0 {
			env[a.name] = attributeValue(vals[0])
		}
	}
	if len(need.data) == 0 {
		return env, nil
	}
	data := make(map[string]any, len(need.data))
	for _, k := range need.data {
		sp := st.spans[k.node]
		if sp.end == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(raw[sp.start:sp.end], &v); err != nil {
			return nil, err
		}
		data[k.name] = v
	}
	env["data"] = data
	return env, nil
}
