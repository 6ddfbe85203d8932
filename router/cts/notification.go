package cts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Key-operation notification limits and enumerations (CTS API reference,
// §4.1, tables 4-2 to 4-5 and 4-17 to 4-20).
const (
	MaxUserGroups = 10 // notify_user_list entries
	MaxUsers      = 50 // users over every entry
	// MaxNameLength bounds notification_name, service_type, resource_type
	// and each trace name (the seed gives no bound; auditbus's own).
	MaxNameLength = 64
)

// Enumerations. StatusEnabled and StatusDisabled are trackers' too.
const (
	StatusEnabled       = "enabled"
	StatusDisabled      = "disabled"
	OperationComplete   = "complete"
	OperationCustomized = "customized"
	TypeSMN             = "smn"
	TypeFunction        = "fun"
	ConditionAND        = "AND"
	ConditionOR         = "OR"
)

// Error codes of the notification endpoints beside the shared CodeBody,
// CodeStatus and CodeWrite (errors.go): these are auditbus's, numbered beside the
// tracker codes they mirror (CTS.0208 exists, CTS.0214 does not exist).
const (
	CodeNotificationExists = "CTS.0260" // 403 (as CTS.0208): a notification of that name exists
	CodeNoNotification     = "CTS.0261" // 404 (as CTS.0214): no notification of that id
	CodeUnknownTopic       = "CTS.0262" // 400: topic_id is not a known topic or function URN
)

// Operation is one entry of operations: the events of a service and
// resource type the notification is for.
type Operation struct {
	ServiceType  string   `json:"service_type"`
	ResourceType string   `json:"resource_type"`
	TraceNames   []string `json:"trace_names"`
}

// NotificationUsers is one entry of notify_user_list.
type NotificationUsers struct {
	UserGroup string   `json:"user_group"`
	UserList  []string `json:"user_list"`
}

// Filter is the advanced filter.
type Filter struct {
	Condition       string   `json:"condition"`
	IsSupportFilter bool     `json:"is_support_filter"`
	Rule            []string `json:"rule"`
}

// Notification is a key-operation notification as the API answers it.
type Notification struct {
	NotificationName string              `json:"notification_name"`
	OperationType    string              `json:"operation_type"`
	Operations       []Operation         `json:"operations"`
	NotifyUserList   []NotificationUsers `json:"notify_user_list"`
	Status           string              `json:"status"`
	TopicID          string              `json:"topic_id"`
	NotificationID   string              `json:"notification_id"`
	NotificationType string              `json:"notification_type"`
	ProjectID        string              `json:"project_id"`
	CreateTime       int64               `json:"create_time"`
	Filter           *Filter             `json:"filter,omitempty"`
}

// NotificationRequest is the body of a create (POST) or update (PUT).
// Pointers tell an absent field from an empty one.
type NotificationRequest struct {
	NotificationID   *string             `json:"notification_id"`
	NotificationName *string             `json:"notification_name"`
	OperationType    *string             `json:"operation_type"`
	Operations       []Operation         `json:"operations"`
	NotifyUserList   []NotificationUsers `json:"notify_user_list"`
	TopicID          *string             `json:"topic_id"`
	Filter           *filterRequest      `json:"filter"`
	Status           *string             `json:"status"`
}

type filterRequest struct {
	Condition       *string  `json:"condition"`
	IsSupportFilter *bool    `json:"is_support_filter"`
	Rule            []string `json:"rule"`
}

// Known tells whether a URN is a topic or function auditbus knows.
type Known func(urn string) bool

func badBody(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBody, Msg: fmt.Sprintf(format, args...) + "; nothing stored"}
}

// ParseNotification reads a create (update false) or update body and
// checks every field as the API reference constrains it; known checks
// topic_id. The result has the request's fields; the caller fills the
// id, project, type and creation time. Every problem is a 400 *Error.
func ParseNotification(body []byte, update bool, known Known) (Notification, *Error) {
	var req NotificationRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if len(bytes.TrimSpace(body)) == 0 {
		return Notification{}, badBody("the body is empty: send the notification as a JSON object")
	}
	if err := dec.Decode(&req); err != nil {
		return Notification{}, badBody("the body is not a notification: %v", err)
	}
	if dec.More() {
		return Notification{}, badBody("the body holds more than one JSON value")
	}
	n := Notification{Status: StatusEnabled, Operations: req.Operations, NotifyUserList: req.NotifyUserList}
	if update {
		if req.NotificationID == nil || *req.NotificationID == "" {
			return n, badBody("notification_id is required")
		}
		n.NotificationID = *req.NotificationID
		if req.Status == nil {
			return n, badBody("status is required")
		}
	} else if req.NotificationID != nil || req.Status != nil {
		return n, badBody("notification_id and status are not fields of a create; a notification starts enabled")
	}
	if req.Status != nil {
		if *req.Status != StatusEnabled && *req.Status != StatusDisabled {
			return n, &Error{Status: http.StatusBadRequest, Code: CodeStatus, Msg: fmt.Sprintf("status %q: the status parameter can only be set to enabled or disabled; nothing stored", *req.Status)}
		}
		n.Status = *req.Status
	}
	if err := checkName("notification_name", req.NotificationName); err != nil {
		return n, err
	}
	n.NotificationName = *req.NotificationName
	if err := n.checkOperations(req.OperationType); err != nil {
		return n, err
	}
	if err := n.checkUsers(); err != nil {
		return n, err
	}
	if err := n.checkTopic(req.TopicID, update, known); err != nil {
		return n, err
	}
	if req.Filter != nil {
		f, err := checkFilter(req.Filter)
		if err != nil {
			return n, err
		}
		n.Filter = f
	}
	return n, nil
}

func checkName(field string, v *string) *Error {
	switch {
	case v == nil || *v == "":
		return badBody("%s is required", field)
	case utf8.RuneCountInString(*v) > MaxNameLength:
		return badBody("%s %q: at most %d characters", field, *v, MaxNameLength)
	case strings.ContainsFunc(*v, func(r rune) bool { return r < 0x20 || r == 0x7f }) || !utf8.ValidString(*v):
		return badBody("%s %q: control characters or invalid UTF-8", field, *v)
	}
	return nil
}

var serviceRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

func (n *Notification) checkOperations(opType *string) *Error {
	if opType == nil {
		return badBody("operation_type is required (complete or customized)")
	}
	n.OperationType = *opType
	switch *opType {
	case OperationComplete:
		if len(n.Operations) > 0 {
			return badBody("operations: a complete notification covers every operation, so it takes none (use customized)")
		}
	case OperationCustomized:
		if len(n.Operations) == 0 {
			return badBody("operations: a customized notification needs at least one operation")
		}
	default:
		return badBody("operation_type %q: want complete or customized", *opType)
	}
	if n.Operations == nil {
		n.Operations = []Operation{}
	}
	for i, op := range n.Operations {
		if !serviceRe.MatchString(op.ServiceType) {
			return badBody("operations[%d].service_type %q: want the service's abbreviation, 1-64 letters, digits, _ or - (ECS, CTS, ...)", i, op.ServiceType)
		}
		if err := checkName(fmt.Sprintf("operations[%d].resource_type", i), &op.ResourceType); err != nil {
			return err
		}
		if len(op.TraceNames) == 0 {
			return badBody("operations[%d].trace_names: give at least one trace name", i)
		}
		for j := range op.TraceNames {
			if err := checkName(fmt.Sprintf("operations[%d].trace_names[%d]", i, j), &op.TraceNames[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (n *Notification) checkUsers() *Error {
	if n.NotifyUserList == nil {
		n.NotifyUserList = []NotificationUsers{}
	}
	if len(n.NotifyUserList) > MaxUserGroups {
		return badBody("notify_user_list: %d user groups; at most %d", len(n.NotifyUserList), MaxUserGroups)
	}
	users := 0
	for i, u := range n.NotifyUserList {
		if err := checkName(fmt.Sprintf("notify_user_list[%d].user_group", i), &u.UserGroup); err != nil {
			return err
		}
		if u.UserList == nil {
			return badBody("notify_user_list[%d].user_list is required (an empty list means every user of the group)", i)
		}
		for j := range u.UserList {
			if err := checkName(fmt.Sprintf("notify_user_list[%d].user_list[%d]", i, j), &u.UserList[j]); err != nil {
				return err
			}
		}
		users += len(u.UserList)
	}
	if users > MaxUsers {
		return badBody("notify_user_list: %d users; at most %d over every group", users, MaxUsers)
	}
	return nil
}

func (n *Notification) checkTopic(topic *string, update bool, known Known) *Error {
	n.NotificationType = TypeSMN
	if topic == nil || *topic == "" {
		if update && n.Status == StatusEnabled {
			return badBody("topic_id is required when status is enabled")
		}
		return nil
	}
	n.TopicID = *topic
	switch {
	case strings.HasPrefix(n.TopicID, "urn:smn:"):
	case strings.HasPrefix(n.TopicID, "urn:fss:"):
		n.NotificationType = TypeFunction
	default:
		return badBody("topic_id %q: want a topic_urn (urn:smn:<region>:<project>:<name>) or a func_urn (urn:fss:...)", n.TopicID)
	}
	if !known(n.TopicID) {
		return &Error{Status: http.StatusBadRequest, Code: CodeUnknownTopic,
			Msg: fmt.Sprintf("topic_id %s is not a known topic or function (see GET /v1/topics); nothing stored", n.TopicID)}
	}
	return nil
}
