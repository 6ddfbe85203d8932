package console

import (
	"errors"
	"net/http"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/dispatch"
)

// targetEnable resumes deliveries to a held target (disabled after a 410
// Gone, or unsubscribed), as POST /v1/rules/{name}/targets/{id}:enable
// does, and goes back to the rule's page.
func (c *Console) targetEnable(rq *request) {
	bus, rule, target := rq.r.PathValue("bus"), rq.r.PathValue("name"), rq.r.PathValue("target")
	_, err := c.api.EnableTarget(rq.r.Context(), bus, rule, target)
	var ae *auth.Error
	switch {
	case errors.As(err, &ae):
		rq.render(ae.Status, "error.html", "Not allowed", ae.Msg)
	case errors.Is(err, dispatch.ErrNoSuchTarget):
		rq.fail(http.StatusNotFound, "Rule "+rule+" on bus "+bus+" has no target "+target+".")
	case err != nil:
		c.opts.Log.Error().Err(err).Str("rule", rule).Str("target", target).Msg("console enable target failed")
		rq.fail(http.StatusServiceUnavailable, "The target could not be enabled (the target-state bucket did not answer); retrying is safe.")
	default:
		http.Redirect(rq.w, rq.r, Prefix+"rules/"+bus+"/"+rule, http.StatusSeeOther)
	}
}
