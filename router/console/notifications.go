package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/topics"
)

// notificationRow is one CTS key-operation notification as the page
// shows it.
type notificationRow struct {
	cts.Notification
	Created string
}

// notifications lists the CTS key-operation notifications of every
// project (read-only: they are changed through the CTS API).
func (c *Console) notifications(rq *request) {
	ns, err := c.api.NotificationsList(rq.r.Context())
	var ae *auth.Error
	if errors.As(err, &ae) {
		rq.forbidden(auth.ActionCTSNotificationList, ae.Msg)
		return
	}
	rows := make([]notificationRow, 0, len(ns))
	for _, n := range ns {
		rows = append(rows, notificationRow{n, time.UnixMilli(n.CreateTime).UTC().Format("2006-01-02 15:04:05Z")})
	}
	rq.render(http.StatusOK, "notifications.html", "Notifications", rows)
}

// topicsPage lists the topics and their subscriptions, credentials
// masked as GET /v1/topics masks them (read-only).
func (c *Console) topicsPage(rq *request) {
	ts, err := c.api.TopicsList(rq.r.Context())
	var ae *auth.Error
	if errors.As(err, &ae) {
		rq.forbidden(auth.ActionTopicsRead, ae.Msg)
		return
	}
	rows := make([]topicRow, 0, len(ts))
	for _, t := range ts {
		r := topicRow{Topic: t}
		for _, s := range t.Subscriptions {
			r.Subs = append(r.Subs, subscriptionRow{s, s.Confirm == nil || *s.Confirm})
		}
		rows = append(rows, r)
	}
	rq.render(http.StatusOK, "topics.html", "Topics", rows)
}

// topicRow is a topic as the page shows it.
type topicRow struct {
	topics.Topic
	Subs []subscriptionRow
}

// subscriptionRow is a subscription and whether it asks its endpoint to
// confirm (topics' default: yes).
type subscriptionRow struct {
	topics.Subscription
	Confirms bool
}
