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

// editData is the rule editor's: the document, the revision it was read
// at, and the problems of the last save.
type editData struct {
	Bus, Name string
	Document  string
	Revision  uint64
	Problems  []string // "line:col: message", 1-based
	Error     string
	Saved     bool
}

// ruleEdit shows an API rule's document (secrets masked) for editing.
func (c *Console) ruleEdit(rq *request) {
	v, doc, ok := c.ruleOf(rq)
	if !ok {
		return
	}
	if !editable(v) {
		rq.fail(http.StatusConflict, fmt.Sprintf("Rule %s comes from %s: only API rules are edited here.", v.Name, v.Origin.Kind))
		return
	}
	rq.render(http.StatusOK, "rule_edit.html", "Edit rule "+v.Name,
		editData{Bus: v.Bus, Name: v.Name, Document: doc, Revision: v.Revision, Saved: rq.r.URL.Query().Get("saved") != ""})
}

// ruleSave stores the edited document through the same code as PUT
// /v1/rules/{name}, with If-Match the revision the editor was read at;
// problems are shown at line:col, 1-based, and nothing is stored.
func (c *Console) ruleSave(rq *request) {
	bus, name := rq.r.PathValue("bus"), rq.r.PathValue("name")
	doc := strings.ReplaceAll(rq.r.PostFormValue("document"), "\r\n", "\n")
	d := editData{Bus: bus, Name: name, Document: doc}
	d.Revision, _ = strconv.ParseUint(rq.r.PostFormValue("revision"), 10, 64)
	var pre *api.Precondition
	if d.Revision > 0 {
		pre = &api.Precondition{Revision: d.Revision}
	}
	// Settings still shown masked get their stored values back (PutRule);
	// a mask left anywhere else is refused, so no secret is replaced by
	// its mask.
	_, _, err := c.api.PutRule(rq.r.Context(), bus, name, []byte(doc), pre)
	if err == nil {
		http.Redirect(rq.w, rq.r, Prefix+"rules/"+bus+"/"+name+"/edit?saved=1", http.StatusSeeOther)
		return
	}
	status := http.StatusBadRequest
	var invalid rules.Errors
	var ae *auth.Error
	switch {
	case errors.Is(err, api.ErrStillMasked) && errors.As(err, &invalid):
		d.Problems = positioned(invalid)
		d.Error = fmt.Sprintf("The document still holds masked secrets (%s) that are not the stored ones: type their real values, or leave them as shown to keep them. Nothing was stored.", api.Masked)
	case errors.As(err, &invalid):
		d.Problems = positioned(invalid)
		d.Error = fmt.Sprintf("%d problem(s) in the rule; nothing was stored.", len(invalid))
	case errors.As(err, &ae):
		status, d.Error = ae.Status, ae.Msg
	case errors.Is(err, api.ErrPreconditionFailed):
		status, d.Error = http.StatusPreconditionFailed, "The rule changed since this editor was opened; nothing was stored. Open it again to edit the new version."
	case errors.Is(err, api.ErrRuleConflict):
		status, d.Error = http.StatusConflict, err.Error()
	case errors.Is(err, api.ErrInvalidRuleID):
		d.Error = err.Error()
	case errors.Is(err, api.ErrTopicsUnavailable):
		c.opts.Log.Error().Err(err).Str("rule", name).Str("bus", bus).Msg("console rule save failed")
		status, d.Error = http.StatusServiceUnavailable, "The rule could not be checked (the topics bucket did not answer); nothing was stored, retrying is safe."
	default:
		c.opts.Log.Error().Err(err).Str("rule", name).Str("bus", bus).Msg("console rule save failed")
		status, d.Error = http.StatusServiceUnavailable, "The rule could not be stored (the rules bucket did not answer); retrying is safe."
	}
	rq.render(status, "rule_edit.html", "Edit rule "+name, d)
}

// positioned is each problem as "line:col: message", 1-based.
func positioned(errs rules.Errors) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return out
}
