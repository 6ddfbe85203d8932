package console

import (
	"net/http"

	"github.com/auditbus/auditbus/router/api"
)

// ruleRow is one rule of the list, with its match count.
type ruleRow struct {
	api.RuleView
	Matches  float64
	Editable bool
}

type rulesData struct {
	Rules        []ruleRow
	SourceErrors []string
}

// rulesList lists the rules the identity may see, as GET /v1/rules does,
// with each one's origin, whether it is enabled and how many events it
// matched since the server started (auditbus_rule_matches_total).
func (c *Console) rulesList(rq *request) {
	views, errs := c.api.Rules(rq.r.Context())
	matches := counterBy(c.api.Gatherer(), "auditbus_rule_matches_total", "bus", "rule")
	d := rulesData{SourceErrors: errs}
	for _, v := range views {
		d.Rules = append(d.Rules, ruleRow{v, matches[[2]string{v.Bus, v.Name}], editable(v)})
	}
	rq.render(http.StatusOK, "rules.html", "Rules", d)
}

// editable reports whether the console may edit v: an API rule (rule
// files change on disk, notification rules through their endpoints).
func editable(v api.RuleView) bool { return v.Origin.Kind == api.OriginAPI }
