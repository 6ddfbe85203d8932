package console

import (
	"errors"
	"fmt"
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
	// Pick is whether the identity may pick a stored event (audit:read):
	// rules:test alone tests pasted events only.
	Pick bool
	// Document is a rule document to test instead of a running rule.
	Document string
	Result   *rules.Explanation
	Error    string
	Problems []string // of Document: "line:col: message", 1-based
}

// tester shows the form; ?bus=&rule= preselects a rule and ?seq= fills
// in a recent event, for an identity that may read stored events
// (audit:read, as search and the live tail need).
func (c *Console) tester(rq *request) {
	q := rq.r.URL.Query()
	chosen := q.Get("rule")
	if !strings.Contains(chosen, "/") {
		chosen = q.Get("bus") + "/" + chosen
	}
	d := c.testerForm(rq, chosen, "")
	status := http.StatusOK
	switch s := q.Get("seq"); {
	case s != "" && !d.Pick:
		status, d.Error = http.StatusForbidden, "Picking a stored event needs the action "+auth.ActionAuditRead+": paste the event instead."
	case s != "":
		seq, _ := strconv.ParseUint(s, 10, 64)
		e, err := c.storedEvent(rq.r.Context(), seq)
		if err != nil {
			d.Error = "Event " + s + " is not on the bus any more, or is of a bus you may not see."
		}
		d.Event = e.JSON
	}
	rq.render(status, "tester.html", "Rule tester", d)
}

// testerRun tests the chosen running rule on the event, as POST
// /v1/rules:test does, and shows the explanation clause by clause.
func (c *Console) testerRun(rq *request) {
	chosen, ev := rq.r.PostFormValue("rule"), strings.TrimSpace(rq.r.PostFormValue("event"))
	d := c.testerForm(rq, chosen, ev)
	d.Document = strings.ReplaceAll(rq.r.PostFormValue("document"), "\r\n", "\n")
	bus, name, _ := strings.Cut(chosen, "/")
	status := http.StatusOK
	switch {
	case name != "" && strings.TrimSpace(d.Document) != "":
		status, d.Error = http.StatusBadRequest, "Choose a running rule or paste a rule document, not both."
	case name == "" && strings.TrimSpace(d.Document) == "":
		status, d.Error = http.StatusBadRequest, "Choose a rule to test, or paste a rule document."
	case ev == "":
		status, d.Error = http.StatusBadRequest, "Paste an event (a structured-mode CloudEvent, JSON) or pick a recent one."
	default:
		var x *rules.Explanation
		var err error
		if name != "" {
			x, err = c.api.TestRule(rq.r.Context(), bus, name, []byte(ev))
		} else {
			x, err = c.api.TestRuleDocument(rq.r.Context(), "", []byte(d.Document), []byte(ev))
		}
		status = d.explain(x, err)
	}
	rq.render(status, "tester.html", "Rule tester", d)
}

// explain puts a test's answer or problem in d, returning the status.
func (d *testerData) explain(x *rules.Explanation, err error) int {
	var ae *auth.Error
	var invalid rules.Errors
	switch {
	case errors.As(err, &ae):
		d.Error = ae.Msg
		return ae.Status
	case errors.As(err, &invalid):
		for _, e := range invalid {
			d.Problems = append(d.Problems, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg))
		}
		d.Error = fmt.Sprintf("%d problem(s) in the rule document.", len(invalid))
		return http.StatusBadRequest
	case errors.Is(err, api.ErrRuleNotFound):
		d.Error = err.Error()
		return http.StatusNotFound
	case err != nil:
		d.Error = err.Error()
		return http.StatusBadRequest
	}
	d.Result = x
	return http.StatusOK
}

func (c *Console) testerForm(rq *request, rule, ev string) testerData {
	views, _ := c.api.Rules(rq.r.Context())
	d := testerData{Rule: rule, Event: ev, Pick: rq.allows(auth.ActionAuditRead)}
	if d.Pick {
		d.Recent = c.recentEvents(rq.r.Context())
	}
	for _, v := range views {
		if v.Running {
			d.Rules = append(d.Rules, v)
		}
	}
	return d
}
