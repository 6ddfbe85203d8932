package console

import (
	"errors"
	"net/http"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/auth"
)

type ruleData struct {
	Rule     api.RuleView
	Matches  float64
	CanEdit  bool
	CanTest  bool
	Editable bool
	// Held are the targets nothing is delivered to now, by id, when the
	// identity may enable them.
	Held map[string]bool
}

// rulePage shows one rule: where it comes from, its expression, and each
// target with its delivery state and backlog.
func (c *Console) rulePage(rq *request) {
	v, _, ok := c.ruleOf(rq)
	if !ok {
		return
	}
	matches := counterBy(c.api.Gatherer(), "auditbus_rule_matches_total", "bus", "rule")
	d := ruleData{Rule: v, Matches: matches[[2]string{v.Bus, v.Name}], Held: map[string]bool{},
		Editable: editable(v), CanEdit: editable(v) && rq.allows(auth.ActionRulesWrite), CanTest: rq.allows(auth.ActionRulesTest)}
	for _, t := range v.Targets {
		if held(t) && rq.allows(auth.ActionTargetsWrite) {
			d.Held[t.ID] = true
		}
	}
	rq.render(http.StatusOK, "rule.html", "Rule "+v.Name, d)
}

// ruleOf finds the rule of the path's {bus} and {name}, answering 404 or
// 403 itself.
func (c *Console) ruleOf(rq *request) (api.RuleView, string, bool) {
	bus, name := rq.r.PathValue("bus"), rq.r.PathValue("name")
	v, doc, err := c.api.Rule(rq.r.Context(), bus, name)
	var ae *auth.Error
	switch {
	case errors.As(err, &ae):
		rq.render(ae.Status, "error.html", "Not allowed", ae.Msg)
	case errors.Is(err, api.ErrRuleNotFound):
		rq.fail(http.StatusNotFound, "There is no rule "+name+" on bus "+bus+".")
	case err != nil:
		rq.fail(http.StatusInternalServerError, err.Error())
	default:
		return v, doc, true
	}
	return api.RuleView{}, "", false
}
