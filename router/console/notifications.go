package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/cts"
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
