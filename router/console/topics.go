package console

import (
	"errors"
	"net/http"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/topics"
)

// topicsData is the topics page's: each topic with its subscriptions and
// what the rules naming it run as; Rules is false when the identity may
// not read rules (the runs need rules:read).
type topicsData struct {
	Topics []topicRow
	Rules  bool
}

// topicRow is a topic as the page shows it, with the rules' topic
// targets naming its URN.
type topicRow struct {
	topics.Topic
	Subs    []subscriptionRow
	Targets []topicTargetRow
}

// subscriptionRow is a subscription, whether it asks its endpoint to
// confirm (topics' default: yes), and the targets it runs as: one per
// rule's topic target naming the topic.
type subscriptionRow struct {
	topics.Subscription
	Confirms bool
	Runs     []targetRow
}

// topicTargetRow is a rule's target naming a topic.
type topicTargetRow struct {
	Bus, Rule, ID string
}

// topicsPage lists the topics and their subscriptions, credentials
// masked as GET /v1/topics masks them, and per subscription the targets
// it runs as with their delivery state and backlog, as GET /v1/rules
// shows them under each topic target (read-only).
func (c *Console) topicsPage(rq *request) {
	ctx := rq.r.Context()
	ts, err := c.api.TopicsList(ctx)
	var ae *auth.Error
	if errors.As(err, &ae) {
		rq.forbidden(auth.ActionTopicsRead, ae.Msg)
		return
	}
	d := topicsData{Rules: rq.allows(auth.ActionRulesRead)}
	var views []api.RuleView
	if d.Rules {
		views, _ = c.api.Rules(ctx)
	}
	for _, t := range ts {
		d.Topics = append(d.Topics, topicOf(t, views))
	}
	rq.render(http.StatusOK, "topics.html", "Topics", d)
}

// topicOf is t's row: the rules' topic targets naming its URN, and
// under each subscription the runs ("<target>-<subscription>") of those
// targets.
func topicOf(t topics.Topic, views []api.RuleView) topicRow {
	r := topicRow{Topic: t}
	runs := map[[3]string]targetRow{} // by bus, rule and run id
	for _, v := range views {
		for _, tg := range v.Targets {
			if tg.Topic == nil || tg.Topic.URN != t.URN {
				continue
			}
			r.Targets = append(r.Targets, topicTargetRow{v.Bus, v.Name, tg.ID})
			for _, run := range tg.Topic.Runs {
				runs[[3]string{v.Bus, v.Name, run.ID}] = targetRow{v.Bus, v.Name, run}
			}
		}
	}
	for _, s := range t.Subscriptions {
		sr := subscriptionRow{Subscription: s, Confirms: s.Confirm == nil || *s.Confirm}
		for _, tt := range r.Targets {
			if row, ok := runs[[3]string{tt.Bus, tt.Rule, tt.ID + "-" + s.ID}]; ok {
				sr.Runs = append(sr.Runs, row)
			}
		}
		r.Subs = append(r.Subs, sr)
	}
	return r
}
