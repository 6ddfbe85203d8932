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
// attribute's value whenever it is a non-empty string. Derived columns
// (product, action, the resource and request ids from data) are not
// here: a pattern does not address them.
var attributeColumns = map[string]Field{
	"id": FieldID, "source": FieldSource, "type": FieldType, "subject": FieldSubject, "kind": FieldKind,
	"principal": FieldPrincipal, "resourcetype": FieldResourceType, "resourcename": FieldResourceName,
	"outcome": FieldOutcome, "code": FieldCode, "sourceip": FieldSourceIP, "region": FieldRegion,
	"cluster": FieldCluster, "tracerating": FieldTraceRating,
}

// filledColumns are the attribute columns the index fills in when the
// attribute is empty or absent: tracerating gets a default rating, and a
// Kubernetes audit event's (k8sFields) the others from its data. Where
// the attribute is "" such a column may hold anything, so an exact "" on
// it says nothing about the column; a non-empty value or prefix still
// does, since the column is then the attribute (and a column filled from
// data that a pattern value happens to equal only adds a candidate).
var filledColumns = map[Field]bool{
	FieldTraceRating: true, FieldKind: true, FieldPrincipal: true, FieldResourceType: true,
	FieldResourceName: true, FieldOutcome: true, FieldCode: true, FieldSourceIP: true, FieldCluster: true,
}

// Narrow adds to q what rule's pattern makes necessary (rules.Rule.Necessary)
// on indexed columns, so a pattern search reads only candidates; the rule
// engine must still decide each. A condition is kept only where the
// column provably holds the attribute for every event it can match, and
// dropped (never made stricter) otherwise: one with an exact "" on a
// filledColumns column.
func Narrow(q Query, rule *rules.Rule) Query {
	for _, n := range rule.Necessary() {
		f, ok := attributeColumns[n.Attribute]
		if !ok || (filledColumns[f] && slices.Contains(n.Exact, "")) {
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
