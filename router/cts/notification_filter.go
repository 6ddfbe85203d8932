package cts

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// filterRule is one parsed filter.rule entry: "key = value" or
// "key != value".
type filterRule struct {
	key, op, value string
}

var filterRuleRe = regexp.MustCompile(`^\s*([a-z_]+)\s*(!=|=)\s*(.*?)\s*$`)

// apiVersionRe is the seed's api_version constraint, ^(a-zA-Z0-9_-){1,64}$,
// read as the character class it means, plus '.', which the seed's own
// example ("api_version = v1.0") uses.
var apiVersionRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// filterKeys are the fields a filter rule may test, each with its value
// check (nil when the value is free text within a length).
var filterKeys = map[string]struct {
	max  int
	enum []string
}{
	"api_version":   {max: 64},
	"code":          {max: 256},
	"trace_rating":  {enum: []string{"normal", "warning", "incident"}},
	"trace_type":    {enum: []string{"ConsoleAction", "ApiCall", "SystemAction"}},
	"resource_id":   {max: 350},
	"resource_name": {max: 256},
}

func checkFilter(req *filterRequest) (*Filter, *Error) {
	switch {
	case req.Condition == nil:
		return nil, badBody("filter.condition is required (AND or OR)")
	case *req.Condition != ConditionAND && *req.Condition != ConditionOR:
		return nil, badBody("filter.condition %q: want AND or OR", *req.Condition)
	case req.IsSupportFilter == nil:
		return nil, badBody("filter.is_support_filter is required (true or false)")
	case req.Rule == nil:
		return nil, badBody("filter.rule is required (a list of \"key = value\" or \"key != value\")")
	}
	for i, s := range req.Rule {
		if _, err := parseFilterRule(s); err != nil {
			err.Msg = "filter.rule[" + strconv.Itoa(i) + "]: " + err.Msg
			return nil, err
		}
	}
	return &Filter{Condition: *req.Condition, IsSupportFilter: *req.IsSupportFilter, Rule: req.Rule}, nil
}

func parseFilterRule(s string) (filterRule, *Error) {
	m := filterRuleRe.FindStringSubmatch(s)
	if m == nil {
		return filterRule{}, badBody("%q: want \"key = value\" or \"key != value\"", s)
	}
	fr := filterRule{key: m[1], op: m[2], value: m[3]}
	spec, ok := filterKeys[fr.key]
	switch {
	case !ok:
		return fr, badBody("%q: key %s: want api_version, code, trace_rating, trace_type, resource_id or resource_name", s, fr.key)
	case strings.ContainsFunc(fr.value, func(r rune) bool { return r < 0x20 || r == 0x7f }) || !utf8.ValidString(fr.value):
		return fr, badBody("%q: the value has control characters or invalid UTF-8", s)
	case spec.enum != nil && !slices.Contains(spec.enum, fr.value):
		return fr, badBody("%q: %s must be one of %s", s, fr.key, strings.Join(spec.enum, ", "))
	case fr.key == "api_version" && !apiVersionRe.MatchString(fr.value):
		return fr, badBody("%q: api_version must be 1-64 letters, digits, _, - or .", s)
	case spec.max > 0 && (fr.value == "" || utf8.RuneCountInString(fr.value) > spec.max):
		return fr, badBody("%q: %s must be 1 to %d characters", s, fr.key, spec.max)
	}
	return fr, nil
}
