package rules

import (
	"fmt"
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
		expr.Function("objs", objs, new(func(any, ...string) []any)),
		expr.Function("hasPrefixFold", hasPrefixFold, new(func(any, string) bool)),
		expr.Function("hasSuffixFold", hasSuffixFold, new(func(any, string) bool)),
	}
}

// at returns the leaf values a pattern path addresses, EventBridge style:
// arrays met anywhere along the path are expanded, so the result holds
// every candidate value. Objects are not leaf values: operators, exists
// included, see only strings, numbers, booleans and null. A missing field
// yields no values, a JSON null one nil value, which is how patterns tell
// "absent" from "null".
func at(params ...any) (any, error) {
	cur, rest, ok := follow(params)
	if !ok {
		return []any(nil), nil
	}
	if arr, isArr := cur.([]any); isArr && len(rest) == 0 && flat(arr) {
		return arr, nil
	}
	return collect(nil, cur, rest, false), nil
}

// objs returns the objects a group's path reaches, arrays expanded, for
// the group's clauses to be tried on one at a time; one empty object when
// there are none, so that a group of {exists: false} clauses still holds.
func objs(params ...any) (any, error) {
	var out []any
	if cur, rest, ok := follow(params); ok {
		out = collect(nil, cur, rest, true)
	}
	if len(out) == 0 {
		return []any{map[string]any{}}, nil
	}
	return out, nil
}

// follow walks the keys params[1:] from params[0] until it reaches an
// array, returning where it stopped and the keys left for collect.
func follow(params []any) (cur any, rest []any, ok bool) {
	cur = params[0]
	for i, k := range params[1:] {
		switch v := cur.(type) {
		case map[string]any:
			next, found := v[k.(string)]
			if !found {
				return nil, nil, false
			}
			cur = next
		case []any:
			return v, params[1+i:], true
		default:
			return nil, nil, false
		}
	}
	return cur, nil, true
}

// collect is the slow path of at and objs: it expands arrays along keys,
// keeping objects (wantObjects) or everything else at the end of the path.
// Its own result, an array, is expanded again by the caller's collect.
func collect(out []any, cur any, keys []any, wantObjects bool) []any {
	if arr, ok := cur.([]any); ok {
		for _, e := range arr {
			out = collect(out, e, keys, wantObjects)
		}
		return out
	}
	m, isObj := cur.(map[string]any)
	if len(keys) == 0 {
		if isObj == wantObjects {
			out = append(out, cur)
		}
		return out
	}
	if !isObj {
		return out
	}
	next, ok := m[keys[0].(string)]
	if !ok {
		return out
	}
	return collect(out, next, keys[1:], wantObjects)
}

// flat reports whether arr holds leaf values only.
func flat(arr []any) bool {
	for _, e := range arr {
		switch e.(type) {
		case []any, map[string]any:
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

func hasPrefixFold(params ...any) (any, error) {
	s, ok := params[0].(string)
	return ok && prefixFold(s, params[1].(string)), nil
}

func hasSuffixFold(params ...any) (any, error) {
	s, ok := params[0].(string)
	return ok && suffixFold(s, params[1].(string)), nil
}

func inCIDR(params ...any) (any, error) {
	s, ok := params[0].(string)
	if !ok {
		return false, nil
	}
	addr, ok := parseIP(s)
	if !ok {
		return false, nil
	}
	prefix, err := parseCIDR(params[1].(string))
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
