package topics

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/index"
)

// MaxSubjectBytes bounds a notification's subject, as SMN bounds a
// message subject (512 bytes).
const MaxSubjectBytes = 512

// Notification is what a topic subscriber receives for one event.
type Notification struct {
	// Subject names the operation: "<service> <trace name> <resource
	// type> <resource name> by <user>", the parts the trace lacks left
	// out, at most MaxSubjectBytes.
	Subject string
	// Message is the event as a CTS trace (router/cts), as JSON text: the
	// smn message's `message`.
	Message string
	// Trace is the same trace, a function's payload.
	Trace cts.Trace
}

// Render builds the notification of an event stored on bus: the same
// trace GET /v3/{project_id}/traces answers for it, whatever its source.
func Render(busName string, e *event.Event) (Notification, error) {
	raw, err := cejson.Marshal(e)
	if err != nil {
		return Notification{}, fmt.Errorf("render notification: %w", err)
	}
	rec, err := index.FromMessage(0, bus.Subject(busName, e), raw, time.Now())
	if err != nil {
		return Notification{}, fmt.Errorf("render notification: %w", err)
	}
	t := cts.ToTrace(rec)
	msg, err := json.Marshal(t)
	if err != nil {
		return Notification{}, fmt.Errorf("render notification: %w", err)
	}
	return Notification{Subject: subject(t), Message: string(msg), Trace: t}, nil
}

func subject(t cts.Trace) string {
	parts := []string{}
	for _, p := range []string{t.ServiceType, t.TraceName, t.ResourceType, t.ResourceName} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	s := strings.Join(parts, " ")
	if t.User.Name != "" {
		s += " by " + t.User.Name
	}
	if len(s) > MaxSubjectBytes {
		s = strings.ToValidUTF8(s[:MaxSubjectBytes], "")
	}
	return s
}
