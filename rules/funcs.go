package rules

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/expr-lang/expr"
)

// exprOptions are shared by condition, pattern and input programs so that
// authors see the same names everywhere. The sample env declares the
// required CloudEvents attributes so that `type` refers to the attribute
// rather than expr's builtin type() function.
func exprOptions() []expr.Option {
	return []expr.Option{
		expr.Env(map[string]any{"specversion": "", "id": "", "source": "", "type": ""}),
		expr.AllowUndefinedVariables(),
		expr.Function("at", at, new(func(any, ...string) []any)),
		expr.Function("isString", isString, new(func(any) bool)),
		expr.Function("isNumber", isNumber, new(func(any) bool)),
		expr.Function("equalFold", equalFold, new(func(any, string) bool)),
		expr.Function("inCIDR", inCIDR, new(func(any, string) bool)),
	}
}

// at returns the values a pattern path addresses, EventBridge style: arrays
// met anywhere along the path are expanded, so the result holds every
// candidate leaf value. A missing field yields no values, a JSON null one
// nil value, which is how patterns tell "absent" from "null".
func at(params ...any) (any, error) {
	cur := params[0]
	for i, k := range params[1:] {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[k.(string)]
			if !ok {
				return []any(nil), nil
			}
			cur = next
		case []any:
			return collect(nil, v, params[1+i:]), nil
		default:
			return []any(nil), nil
		}
	}
	if arr, ok := cur.([]any); ok && flat(arr) {
		return arr, nil
	}
	return collect(nil, cur, nil), nil
}

// collect is the slow path of at, taken only when the path crosses arrays.
func collect(out []any, cur any, keys []any) []any {
	if arr, ok := cur.([]any); ok {
		for _, e := range arr {
			out = collect(out, e, keys)
		}
		return out
	}
	if len(keys) == 0 {
		return append(out, cur)
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return out
	}
	next, ok := m[keys[0].(string)]
	if !ok {
		return out
	}
	return collect(out, next, keys[1:])
}

func flat(arr []any) bool {
	for _, e := range arr {
		if _, ok := e.([]any); ok {
			return false
		}
	}
	return true
}

func isString(params ...any) (any, error) {
	_, ok := params[0].(string)
	return ok, nil
}

func isNumber(params ...any) (any, error) {
	switch params[0].(type) {
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true, nil
	}
	return false, nil
}

func equalFold(params ...any) (any, error) {
	s, ok := params[0].(string)
	return ok && strings.EqualFold(s, params[1].(string)), nil
}

func inCIDR(params ...any) (any, error) {
	s, ok := params[0].(string)
	if !ok {
		return false, nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return false, nil
	}
	prefix, err := netip.ParsePrefix(params[1].(string))
	if err != nil {
		return false, fmt.Errorf("inCIDR: %w", err)
	}
	return prefix.Contains(addr.Unmap()), nil
}

// wildcardRegexp translates an EventBridge wildcard, where * matches any run
// of characters and \* a literal star, into an anchored regular expression
// for the rule's expr text. It refuses what parseGlob refuses, so the expr
// text and the matcher always accept the same patterns.
func wildcardRegexp(w string) (string, error) {
	g, err := parseGlob(w)
	if err != nil {
		return "", err
	}
	quoted := make([]string, len(g.parts))
	for i, p := range g.parts {
		quoted[i] = regexp.QuoteMeta(p)
	}
	return "^" + strings.Join(quoted, "(?s:.*)") + "$", nil
}
