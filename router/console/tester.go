package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/rules"
)

// testerData is the rule tester's: the rules to choose from, the recent
// events to pick, the event under test and, after a test, the answer.
type testerData struct {
	Rules  []api.RuleView
	Rule   string // "bus/name"
	Event  string
	Recent []recentEvent
	Result *rules.Explanation
	Error  string
}

// tester shows the form; ?bus=&rule= preselects a rule and ?seq= fills
// in a recent event.
func (c *Console) tester(rq *request) {
	q := rq.r.URL.Query()
	chosen := q.Get("rule")
	if !strings.Contains(chosen, "/") {
		chosen = q.Get("bus") + "/" + chosen
	}
	d := c.testerForm(rq, chosen, "")
	if s := q.Get("seq"); s != "" {
		seq, _ := strconv.ParseUint(s, 10, 64)
		e, err := c.storedEvent(rq.r.Context(), seq)
		if err != nil {
			d.Error = "Event " + s + " is not on the bus any more, or is of a bus you may not see."
		}
		d.Event = e.JSON
	}
	rq.render(http.StatusOK, "tester.html", "Rule tester", d)
}

// testerRun tests the chosen running rule on the event, as POST
// /v1/rules:test does, and shows the explanation clause by clause.
func (c *Console) testerRun(rq *request) {
	chosen, ev := rq.r.PostFormValue("rule"), strings.TrimSpace(rq.r.PostFormValue("event"))
	d := c.testerForm(rq, chosen, ev)
	bus, name, _ := strings.Cut(chosen, "/")
	status := http.StatusOK
	switch {
	case name == "":
		status, d.Error = http.StatusBadRequest, "Choose a rule to test."
	case ev == "":
		status, d.Error = http.StatusBadRequest, "Paste an event (a structured-mode CloudEvent, JSON) or pick a recent one."
	default:
		x, err := c.api.TestRule(rq.r.Context(), bus, name, []byte(ev))
		var ae *auth.Error
		switch {
		case errors.As(err, &ae):
			status, d.Error = ae.Status, ae.Msg
		case errors.Is(err, api.ErrRuleNotFound):
			status, d.Error = http.StatusNotFound, err.Error()
		case err != nil:
			status, d.Error = http.StatusBadRequest, err.Error()
		}
		d.Result = x
	}
	rq.render(status, "tester.html", "Rule tester", d)
}

func (c *Console) testerForm(rq *request, rule, ev string) testerData {
	views, _ := c.api.Rules(rq.r.Context())
	d := testerData{Rule: rule, Event: ev, Recent: c.recentEvents(rq.r.Context())}
	for _, v := range views {
		if v.Running {
			d.Rules = append(d.Rules, v)
		}
	}
	return d
}
