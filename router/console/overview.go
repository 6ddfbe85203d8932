package console

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/dispatch"
)

// overviewData is the overview page's: what flows, what is stuck.
type overviewData struct {
	Ready      string // "ready", or why not
	IngestRate string
	Lag        dispatch.EventsLag
	HasLag     bool
	// Sections the identity may not see name the action they need.
	Rules        bool
	RuleCount    int
	Backlogged   []targetRow
	Held         []targetRow
	SourceErrors []string
	DLQ          bool
	DLQSize      string
	Missing      []string
}

// targetRow is one target of a rule, with what is wrong with it.
type targetRow struct {
	Bus, Rule string
	api.TargetView
}

// overview is the landing page: ingest rate, router lag, targets with a
// backlog, held or disabled targets, the DLQ's size and broken rule
// sources. It polls itself (htmx) every 5 s.
func (c *Console) overview(rq *request) {
	ctx := rq.r.Context()
	d := overviewData{Ready: "ready", IngestRate: "measuring…"}
	if err := c.api.Ready(ctx); err != nil {
		d.Ready = "not ready: " + err.Error()
	}
	if n, ok := counterSum(c.api.Gatherer(), "auditbus_ingest_events_total"); ok {
		if perSec, ok := c.rate.add(time.Now(), n); ok {
			d.IngestRate = fmt.Sprintf("%.1f events/s", perSec)
		}
	}
	d.Lag, d.HasLag = c.api.EventsLag()
	if d.Rules = rq.allows(auth.ActionRulesRead); d.Rules {
		views, errs := c.api.Rules(ctx)
		d.RuleCount, d.SourceErrors = len(views), errs
		for _, v := range views {
			for _, t := range v.Targets {
				row := targetRow{v.Bus, v.Name, t}
				if t.Backlog != nil {
					d.Backlogged = append(d.Backlogged, row)
				}
				if held(t) {
					d.Held = append(d.Held, row)
				}
			}
		}
	} else {
		d.Missing = append(d.Missing, auth.ActionRulesRead)
	}
	if d.DLQ = rq.allows(auth.ActionDLQRead); d.DLQ {
		d.DLQSize = c.dlqSize(ctx, rq.id)
	} else {
		d.Missing = append(d.Missing, auth.ActionDLQRead)
	}
	rq.render(http.StatusOK, "overview.html", "Overview", d)
}

// held reports whether nothing is delivered to t now: disabled, or
// waiting for (or refused) the endpoint's consent.
func held(t api.TargetView) bool {
	if t.State == nil {
		return false
	}
	return t.State.Disabled || (t.State.Subscription != nil && t.State.Subscription.Status != dispatch.SubscriptionConfirmed)
}

// dlqCountLimit bounds the dead letters counted one by one for an
// identity limited to buses.
const dlqCountLimit = 1000

// dlqSize is how many dead letters id may see: the DLQ stream's size for
// an identity of every bus, else its buses' letters, counted up to
// dlqCountLimit.
func (c *Console) dlqSize(ctx context.Context, id *auth.Identity) string {
	if id == nil || id.Buses() == nil {
		if c.opts.JetStream == nil {
			return "unknown"
		}
		st, err := c.opts.JetStream.Stream(ctx, bus.DLQStream)
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		return fmt.Sprint(st.CachedInfo().State.Msgs)
	}
	dlq := c.api.DLQ()
	if dlq == nil {
		return "unknown"
	}
	n := 0
	for _, b := range id.Buses() {
		f := dispatch.DLQFilter{Bus: b, Limit: dispatch.MaxDLQLimit}
		for n < dlqCountLimit {
			p, err := dlq.ListDLQ(ctx, f)
			if err != nil {
				return "unknown (" + err.Error() + ")"
			}
			n += len(p.Entries)
			if p.Next == 0 {
				break
			}
			f.After = p.Next
		}
	}
	if n >= dlqCountLimit {
		return fmt.Sprintf("%d or more", dlqCountLimit)
	}
	return fmt.Sprint(n)
}
