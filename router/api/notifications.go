package api

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/router/topics"
	"github.com/auditbus/auditbus/rules"
)

// Notifications is what the CTS notification endpoints resolve topic_id
// and user groups with, and keep a notification name to one notification
// of a project across replicas with (topics.Names: ClaimName answers
// topics.ErrNameTaken for a name another notification holds);
// *topics.Registry is the real one.
type Notifications interface {
	Known(urn string) bool
	Group(name string) []string
	ClaimName(ctx context.Context, project, name, id string, has func(holder string) bool) error
	NameHolder(ctx context.Context, project, name string) (string, error)
	ReleaseName(ctx context.Context, project, name, id string) error
}

// WithNotifications serves the CTS key-operation notification endpoints
// (/v3/{project_id}/notifications), storing each notification as a rule
// of bus cts.NotificationBus in the rule store (WithRuleStore is needed
// too), so an identity must be allowed that bus. Default: none.
func WithNotifications(n Notifications) Option { return func(o *options) { o.notifications = n } }

func (s *Server) routeNotifications() {
	if s.opts.rules == nil {
		return
	}
	s.routeCTS("/v3/{project_id}/notifications", methods{
		http.MethodPost:   {auth.ActionCTSNotificationCreate, s.createNotification},
		http.MethodPut:    {auth.ActionCTSNotificationUpdate, s.updateNotification},
		http.MethodDelete: {auth.ActionCTSNotificationDelete, s.deleteNotifications}})
	s.routeCTS("/v3/{project_id}/notifications/{notification_type}", methods{
		http.MethodGet: {auth.ActionCTSNotificationList, s.listNotifications}})
}

// storedNotifications are the notifications of project (every one when
// project is ""), by creation time.
func (s *Server) storedNotifications(project string) []cts.Notification {
	var out []cts.Notification
	for _, st := range s.opts.rules.List() {
		if st.Bus != cts.NotificationBus || !strings.HasPrefix(st.Name, cts.RulePrefix) {
			continue
		}
		if n, ok := cts.FromRuleDocument(st.Document); ok && (project == "" || n.ProjectID == project) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b cts.Notification) int { return cmp.Compare(a.CreateTime, b.CreateTime) })
	return out
}

func (s *Server) readNotification(w http.ResponseWriter, r *http.Request, update bool) (cts.Notification, bool) {
	if !permitBus(w, r, cts.NotificationBus) {
		return cts.Notification{}, false
	}
	body, err := ingest.ReadBody(r, s.opts.maxBody)
	if err != nil {
		status, _ := errorStatus(err)
		writeJSON(w, status, &cts.Error{Code: cts.CodeBody, Msg: err.Error()})
		return cts.Notification{}, false
	}
	n, cerr := cts.ParseNotification(body, update, s.opts.notifications.Known)
	if cerr != nil {
		writeJSON(w, cerr.Status, cerr)
		return n, false
	}
	return n, true
}

// createNotification answers POST: 201 with the notification.
func (s *Server) createNotification(w http.ResponseWriter, r *http.Request) {
	n, ok := s.readNotification(w, r, false)
	if !ok {
		return
	}
	project := r.PathValue("project_id")
	if slices.ContainsFunc(s.storedNotifications(project), func(o cts.Notification) bool { return o.NotificationName == n.NotificationName }) {
		writeJSON(w, http.StatusForbidden, &cts.Error{Code: cts.CodeNotificationExists,
			Msg: fmt.Sprintf("notification %q already exists in project %s; nothing stored", n.NotificationName, project)})
		return
	}
	n.NotificationID, n.ProjectID, n.CreateTime = newID(), project, time.Now().UnixMilli()
	if !s.claimName(w, r, n) {
		return
	}
	if !s.storeNotification(w, r, n) {
		s.releaseName(r.Context(), n.ProjectID, n.NotificationName, n.NotificationID)
		return
	}
	if !s.stillHolds(w, r, n) {
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

// updateNotification answers PUT: 200 with the notification as changed.
func (s *Server) updateNotification(w http.ResponseWriter, r *http.Request) {
	n, ok := s.readNotification(w, r, true)
	if !ok {
		return
	}
	project := r.PathValue("project_id")
	all := s.storedNotifications(project)
	i := slices.IndexFunc(all, func(o cts.Notification) bool { return o.NotificationID == n.NotificationID })
	if i < 0 {
		writeJSON(w, http.StatusNotFound, &cts.Error{Code: cts.CodeNoNotification,
			Msg: fmt.Sprintf("notification %s does not exist in project %s", n.NotificationID, project)})
		return
	}
	if slices.ContainsFunc(all, func(o cts.Notification) bool {
		return o.NotificationName == n.NotificationName && o.NotificationID != n.NotificationID
	}) {
		writeJSON(w, http.StatusForbidden, &cts.Error{Code: cts.CodeNotificationExists,
			Msg: fmt.Sprintf("another notification is named %q; nothing stored", n.NotificationName)})
		return
	}
	n.ProjectID, n.CreateTime = project, all[i].CreateTime
	// Claimed even when unchanged: a notification stored before names
	// were claimed gets its claim.
	if !s.claimName(w, r, n) {
		return
	}
	renamed := all[i].NotificationName != n.NotificationName
	if !s.storeNotification(w, r, n) {
		if renamed {
			s.releaseName(r.Context(), project, n.NotificationName, n.NotificationID)
		}
		return
	}
	if renamed {
		s.releaseName(r.Context(), project, all[i].NotificationName, n.NotificationID)
	}
	writeJSON(w, http.StatusOK, n)
}

// claimName makes n the one notification of its name in its project
// across replicas (the local check before it sees only what this replica
// has applied), answering CTS.0260 when another one holds the name.
func (s *Server) claimName(w http.ResponseWriter, r *http.Request, n cts.Notification) bool {
	has := func(holder string) bool {
		return slices.ContainsFunc(s.storedNotifications(n.ProjectID), func(o cts.Notification) bool {
			return o.NotificationID == holder && o.NotificationName == n.NotificationName
		})
	}
	err := s.opts.notifications.ClaimName(r.Context(), n.ProjectID, n.NotificationName, n.NotificationID, has)
	switch {
	case err == nil:
		return true
	case errors.Is(err, topics.ErrNameTaken):
		writeJSON(w, http.StatusForbidden, &cts.Error{Code: cts.CodeNotificationExists,
			Msg: fmt.Sprintf("notification %q already exists in project %s; nothing stored", n.NotificationName, n.ProjectID)})
	default:
		s.opts.log.Error().Err(err).Str("notification", n.NotificationID).Msg("notification name not claimed")
		writeJSON(w, http.StatusServiceUnavailable, &cts.Error{Code: cts.CodeWrite, Msg: "failed to write data: the notification names bucket (NATS KV) did not answer; nothing stored, retrying is safe"})
	}
	return false
}

// stillHolds checks, after a create stored n, that n still holds its name:
// a claim is taken over only when stale (topics.StaleClaimAfter), so this
// fails only for a create that stalled that long; n is deleted then.
func (s *Server) stillHolds(w http.ResponseWriter, r *http.Request, n cts.Notification) bool {
	holder, err := s.opts.notifications.NameHolder(r.Context(), n.ProjectID, n.NotificationName)
	if err != nil || holder == n.NotificationID {
		return true // stored and claimed; a claim unread now is checked by the next create
	}
	if err := s.opts.rules.Delete(r.Context(), cts.NotificationBus, cts.RuleName(n.NotificationID), nil); err != nil {
		s.opts.log.Error().Err(err).Str("notification", n.NotificationID).Msg("notification that lost its name not deleted")
	}
	writeJSON(w, http.StatusForbidden, &cts.Error{Code: cts.CodeNotificationExists,
		Msg: fmt.Sprintf("notification %q already exists in project %s (created while this request stalled); nothing stored", n.NotificationName, n.ProjectID)})
	return false
}

// releaseName gives up a name id claimed. A failure is only logged: the
// claim goes stale, and the next create of that name takes it over.
func (s *Server) releaseName(ctx context.Context, project, name, id string) {
	if err := s.opts.notifications.ReleaseName(ctx, project, name, id); err != nil {
		s.opts.log.Warn().Err(err).Str("notification", id).Msg("notification name not released")
	}
}

// storeNotification puts n's rule in the rule store, answering errors.
func (s *Server) storeNotification(w http.ResponseWriter, r *http.Request, n cts.Notification) bool {
	doc := n.RuleDocument(s.opts.notifications.Group)
	_, _, err := s.opts.rules.Put(r.Context(), cts.NotificationBus, cts.RuleName(n.NotificationID), doc, nil)
	if err == nil {
		return true
	}
	var invalid rules.Errors
	if errors.As(err, &invalid) {
		// A compiled notification that is not a valid rule is a bug here.
		s.opts.log.Error().Err(err).Str("notification", n.NotificationID).Msg("notification compiled to an invalid rule")
		writeJSON(w, http.StatusInternalServerError, &cts.Error{Code: cts.CodeWrite, Msg: "the notification did not compile to a valid rule: " + err.Error()})
		return false
	}
	s.opts.log.Error().Err(err).Msg("notification not stored")
	writeJSON(w, http.StatusServiceUnavailable, &cts.Error{Code: cts.CodeWrite, Msg: "failed to write data: the rules bucket (NATS KV) did not answer; retrying is safe"})
	return false
}

// deleteNotifications answers DELETE ?notification_id=ID[,ID...]: 204
// when every one is gone; 404 naming those that did not exist (the
// others are deleted).
func (s *Server) deleteNotifications(w http.ResponseWriter, r *http.Request) {
	if !permitBus(w, r, cts.NotificationBus) {
		return
	}
	q := r.URL.Query()
	ids := strings.Split(q.Get("notification_id"), ",")
	if q.Get("notification_id") == "" || slices.Contains(ids, "") {
		writeJSON(w, http.StatusBadRequest, &cts.Error{Code: cts.CodeQuery, Msg: "notification_id is required: one id, or several separated by commas"})
		return
	}
	all := s.storedNotifications(r.PathValue("project_id"))
	var missing []string
	for _, id := range ids {
		i := slices.IndexFunc(all, func(o cts.Notification) bool { return o.NotificationID == id })
		if i < 0 {
			missing = append(missing, id)
			continue
		}
		if err := s.opts.rules.Delete(r.Context(), cts.NotificationBus, cts.RuleName(id), nil); err != nil && !errors.Is(err, ErrRuleNotFound) {
			s.opts.log.Error().Err(err).Msg("notification not deleted")
			writeJSON(w, http.StatusServiceUnavailable, &cts.Error{Code: cts.CodeWrite, Msg: "failed to delete notification " + id + ": the rules bucket did not answer; retrying is safe"})
			return
		}
		s.releaseName(r.Context(), all[i].ProjectID, all[i].NotificationName, id)
	}
	if len(missing) > 0 {
		writeJSON(w, http.StatusNotFound, &cts.Error{Code: cts.CodeNoNotification,
			Msg: "notifications do not exist: " + strings.Join(missing, ", ") + " (the others were deleted)"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listNotifications answers GET .../{notification_type}[?notification_name=].
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	if !permitBus(w, r, cts.NotificationBus) {
		return
	}
	typ := r.PathValue("notification_type")
	if typ != cts.TypeSMN && typ != cts.TypeFunction {
		writeJSON(w, http.StatusBadRequest, &cts.Error{Code: cts.CodeQuery, Msg: fmt.Sprintf("notification_type %q: want smn or fun", typ)})
		return
	}
	for name := range r.URL.Query() {
		if name != "notification_name" {
			writeJSON(w, http.StatusBadRequest, &cts.Error{Code: cts.CodeQuery, Msg: "query parameter " + name + " is not supported (supported: notification_name)"})
			return
		}
	}
	name := r.URL.Query().Get("notification_name")
	out := []cts.Notification{}
	for _, n := range s.storedNotifications(r.PathValue("project_id")) {
		if n.NotificationType == typ && (name == "" || n.NotificationName == name) {
			out = append(out, n)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": out})
}

// newID is a random UUID (version 4), as CTS's notification ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// OriginNotification is the origin kind of a notification's rule.
const OriginNotification = "notification"

// notificationOrigin is st's origin, kind notification (with the
// notification's id) for the rule of a CTS notification.
func notificationOrigin(st StoredRule) Origin {
	o := st.Origin
	if id, ok := strings.CutPrefix(st.Name, cts.RulePrefix); ok && st.Bus == cts.NotificationBus && o.Kind == OriginAPI {
		if _, isN := cts.FromRuleDocument(st.Document); isN {
			o.Kind, o.NotificationID = OriginNotification, id
		}
	}
	return o
}

// notNotificationRule answers 409 for a rule name the notifications own:
// they change through /v3/{project_id}/notifications only.
func notNotificationRule(w http.ResponseWriter, name string) bool {
	if !strings.HasPrefix(name, cts.RulePrefix) {
		return true
	}
	writeError(w, http.StatusConflict, CodeRuleConflict, fmt.Sprintf("rule names starting %s belong to CTS notifications: change them with /v3/{project_id}/notifications", cts.RulePrefix))
	return false
}
