package console

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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
	if n, ok := c.ingestCount(); ok {
		if perSec, ok := c.rate.add(time.Now(), n); ok {
			d.IngestRate = fmt.Sprintf("%.1f events/s", perSec)
		}
	}
	d.Lag, d.HasLag = c.api.EventsLag()
	if d.Rules = rq.allows(auth.ActionRulesRead); d.Rules {
		views, errs := c.api.Rules(ctx)
		d.RuleCount, d.SourceErrors = len(views), errs
		for _, v := range views {
			for _, row := range targetRows(v) {
				if row.Backlog != nil {
					d.Backlogged = append(d.Backlogged, row)
				}
				if held(row.TargetView) {
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

// targetRows are v's targets and, under a topic target, the targets it
// runs as (one per subscription), each with its own state and backlog.
func targetRows(v api.RuleView) []targetRow {
	var rows []targetRow
	for _, t := range v.Targets {
		rows = append(rows, targetRow{v.Bus, v.Name, t})
		if t.Topic != nil {
			for _, run := range t.Topic.Runs {
				rows = append(rows, targetRow{v.Bus, v.Name, run})
			}
		}
	}
	return rows
}

// dlqSize is how many dead letters id may see: the DLQ stream's size for
// an identity of every bus, else the sum over its buses of the stream's
// per-subject counts (auditbus.dlq.<bus>.>), which JetStream keeps: one
// request however many letters there are.
func (c *Console) dlqSize(ctx context.Context, id *auth.Identity) string {
	if c.opts.JetStream == nil {
		return "unknown"
	}
	st, err := c.opts.JetStream.Stream(ctx, bus.DLQStream)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	if id == nil || id.Buses() == nil {
		return fmt.Sprint(st.CachedInfo().State.Msgs)
	}
	var n uint64
	for _, b := range id.Buses() {
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(bus.DLQSubject(b, "", "")))
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		for _, count := range info.State.Subjects {
			n += count
		}
	}
	return fmt.Sprint(n)
}
