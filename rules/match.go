package rules

import (
	"encoding/json"
	"errors"
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/expr-lang/expr/vm"

	"github.com/auditbus/auditbus/router/cejson"
)

// match finds the rules raw satisfies, appending them to res in id (name)
// order. Reading an event that leads to no candidate allocates nothing.
func (x *busIndex) match(raw []byte, res *Result) error {
	st := x.pool.Get().(*state)
	defer x.pool.Put(st)
	return x.matchWith(st, raw, res)
}

func (x *busIndex) matchWith(st *state, raw []byte, res *Result) error {
	st.reset()
	if err := x.read(raw, st); err != nil {
		return err
	}
	x.candidates(st)
	cands, always := st.cands, x.always
	for len(cands) > 0 || len(always) > 0 {
		var id int32
		if len(always) == 0 || (len(cands) > 0 && cands[0] < always[0]) {
			id, cands = cands[0], cands[1:]
		} else {
			id, always = always[0], always[1:]
		}
		if err := x.try(id, raw, st, res); err != nil {
			return err
		}
	}
	return nil
}

// read fills st with the values of the tree's paths: by scanning raw when
// the scan can see the event as NewEnv does, else from NewEnv itself.
func (x *busIndex) read(raw []byte, st *state) error {
	sc := scanner{buf: raw, st: st}
	err := sc.event(x.tree.root)
	if err == nil && !st.specversion {
		return fmt.Errorf("%w: no specversion", ErrNotEvent)
	}
	if err == nil && !st.dataAsScanned() {
		err = errSlow
	}
	if err == nil {
		// NewEnv sets the required attributes even when the event lacks them.
		for _, n := range x.required {
			if len(st.vals[n.id]) == 0 {
				st.add(n, value{kind: kString})
			}
		}
	}
	if err != errSlow {
		return err
	}
	st.reset()
	env, err := decodeEnv(raw)
	if err != nil {
		return err
	}
	st.env = env
	for key, c := range x.tree.root.children {
		if v, ok := env[key]; ok {
			walkEnv(st, c, v)
		}
	}
	return nil
}

func decodeEnv(raw []byte) (Env, error) {
	var e ce.Event
	// encoding/json first, for its syntax and depth limits; cejson then
	// reads what sdk-go alone refuses: a JSON value as +json data.
	err := json.Unmarshal(raw, &e)
	var syntax *json.SyntaxError
	if err != nil && !errors.As(err, &syntax) {
		err = cejson.Unmarshal(raw, &e)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEvent, err)
	}
	return NewEnv(&e), nil
}

// walkEnv records v and what lies below it as at() would collect them.
func walkEnv(st *state, n *fieldNode, v any) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			prev := st.enter()
			walkEnv(st, n, e)
			st.leave(prev)
		}
		return
	case map[string]any:
		if n.leaf || n.group {
			st.add(n, value{kind: kObject})
		}
		for key, c := range n.children {
			if cv, ok := x[key]; ok {
				walkEnv(st, c, cv)
			}
		}
		return
	}
	if n.leaf {
		st.add(n, envValue(v))
	}
}

func envValue(v any) value {
	switch x := v.(type) {
	case string:
		return value{kind: kString, str: x}
	case bool:
		return value{kind: kBool, b: x}
	case nil:
		return value{kind: kNull}
	case float64:
		return value{kind: kNumber, num: x}
	case int32:
		return value{kind: kNumber, num: float64(x)}
	}
	return value{kind: kObject}
}

// try evaluates one candidate: its pattern natively, then its condition
// with expr over the full environment, built once per event.
func (x *busIndex) try(id int32, raw []byte, st *state, res *Result) error {
	if !evalClauses(x.progs[id], st, 0) {
		return nil
	}
	r := x.rules[id]
	if r.cond != nil {
		env, err := x.condEnv(id, raw, st)
		if err != nil {
			return err
		}
		machine := vms.Get().(*vm.VM)
		out, err := machine.Run(r.cond, env)
		vms.Put(machine)
		if err != nil {
			res.Errors = append(res.Errors, &MatchError{Rule: r.Name, Err: err})
			return nil
		}
		if ok, _ := out.(bool); !ok {
			return nil
		}
	}
	res.Rules = append(res.Rules, r)
	return nil
}
