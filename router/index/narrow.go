package index

import (
	"fmt"
	"slices"

	"github.com/auditbus/auditbus/rules"
)

// FieldSubject is the subject column. It is not among Fields (GET
// /v1/audit-events filters it by subject_prefix); AnyOf may test it.
const FieldSubject Field = "subject"

// AnyOf holds when Field's value equals one of Exact or starts with one
// of Prefixes (counted in characters). It may name any Field or
// FieldSubject; a Query with another is refused.
type AnyOf struct {
	Field    Field
	Exact    []string
	Prefixes []string
}

// attributeColumns are the CloudEvents attributes whose column holds the
// attribute's string value whenever the event has one (and "" or a
// default otherwise), so a rule's necessary condition on the attribute is
// one on the column. Derived columns (product, action, the resource and
// request ids from data) are not here: a pattern does not address them.
var attributeColumns = map[string]Field{
	"id": FieldID, "source": FieldSource, "type": FieldType, "subject": FieldSubject, "kind": FieldKind,
	"principal": FieldPrincipal, "resourcetype": FieldResourceType, "resourcename": FieldResourceName,
	"outcome": FieldOutcome, "code": FieldCode, "sourceip": FieldSourceIP, "region": FieldRegion,
	"cluster": FieldCluster, "tracerating": FieldTraceRating,
}

// Narrow adds to q what rule's pattern makes necessary (rules.Rule.Necessary)
// on indexed columns, so a pattern search reads only candidates; the rule
// engine must still decide each. A condition the columns cannot carry
// exactly is dropped rather than made stricter: the tracerating column
// defaults a missing extension to a rating, so an exact "" on it says
// nothing about the column.
func Narrow(q Query, rule *rules.Rule) Query {
	for _, n := range rule.Necessary() {
		f, ok := attributeColumns[n.Attribute]
		if !ok || (f == FieldTraceRating && slices.Contains(n.Exact, "")) {
			continue
		}
		q.AnyOf = append(q.AnyOf, AnyOf{Field: f, Exact: n.Exact, Prefixes: n.Prefixes})
	}
	return q
}

// checkAnyOf refuses a condition on a column that does not exist, as the
// field name becomes SQL.
func checkAnyOf(q Query) error {
	for _, a := range q.AnyOf {
		if a.Field != FieldSubject && !slices.Contains(Fields, a.Field) {
			return fmt.Errorf("audit index query: %q is not an indexed field", a.Field)
		}
	}
	return nil
}
