package rulestest

import (
	"fmt"
	"strconv"
	"strings"
)

// writeYAML writes the rule as one YAML document, in the layout people
// write by hand (flow lists for matchers, block mappings for structure).
func (s *spec) writeYAML(b *strings.Builder) {
	fmt.Fprintf(b, "name: %s\n", s.name)
	switch {
	case s.extra != "":
		fmt.Fprintf(b, "description: Everything %s records\npattern:\n  source: [%s]\n", s.extra, strconv.Quote(s.extra+".cloud.tencent"))
	case s.broadKind != "":
		fmt.Fprintf(b, "description: Every %s mini-program call\npattern:\n  type: [%s]\n", s.product.code, strconv.Quote(eventType(s.product.code, s.broadKind)))
	default:
		s.writeSpecific(b)
	}
	if c := conditions[s.cond]; c != "" {
		fmt.Fprintf(b, "condition: '%s'\n", c)
	}
	b.WriteString("targets:\n  - id: log\n    log: {}\n")
}

func (s *spec) writeSpecific(b *strings.Builder) {
	p := s.product
	fmt.Fprintf(b, "description: %s %s on %s\npattern:\n", p.code, strings.Join(s.names, " or "), s.res.id)
	fmt.Fprintf(b, "  type: [%s, %s]\n", strconv.Quote(eventType(p.code, "ApiCall")), strconv.Quote(eventType(p.code, "ConsoleCall")))
	if len(s.regions) > 0 {
		fmt.Fprintf(b, "  region: %s\n", flowList(s.regions))
	}
	subject := fmt.Sprintf("[{prefix: %s}]", strconv.Quote(s.res.subject(p)))
	resources := fmt.Sprintf("{resourceName: [%s]}", strconv.Quote(s.res.id))
	switch s.form {
	case bySubject:
		fmt.Fprintf(b, "  subject: %s\n", subject)
	case byExtension:
		fmt.Fprintf(b, "  resourcename: [%s]\n", strconv.Quote(s.res.id))
	}
	fmt.Fprintf(b, "  data:\n    eventName: %s\n", flowList(s.names))
	switch s.errors {
	case errSuccess:
		b.WriteString("    errorCode: [0]\n")
	case errFailed:
		b.WriteString("    errorCode: [{numeric: [\">\", 0]}]\n")
	}
	switch s.form {
	case byResources:
		fmt.Fprintf(b, "    resources: %s\n", resources)
	case byRecordName:
		fmt.Fprintf(b, "    resourceName: [%s]\n", strconv.Quote(s.res.id))
	}
	if s.notRoot {
		b.WriteString("    userIdentity: {type: [{anything-but: \"root\"}]}\n")
	}
	if s.form == bySubjectOrResources {
		fmt.Fprintf(b, "  $or:\n    - subject: %s\n    - data: {resources: %s}\n", subject, resources)
	}
}

func eventType(product, kind string) string { return product + ":CloudEvent:" + kind }

func flowList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
