package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/ingest"
)

// Error codes. They are part of the API contract: never renumber one.
const (
	CodeMalformed          = "AB.1001"                // 400: body is not valid JSON / UTF-8 / base64, or has the wrong shape
	CodeMissingAttribute   = "AB.1002"                // 400: a required CloudEvents attribute is absent or empty
	CodeInvalidAttribute   = "AB.1003"                // 400: an attribute has a bad name, type or value (control characters included), or data the router could not process
	CodeUnsupportedMedia   = "AB.1004"                // 415: a content type the endpoint does not accept (CloudEvents modes; YAML or JSON for rules)
	CodeTooLarge           = "AB.1005"                // 413: body over the configured limit
	CodeInvalidParameter   = "AB.1006"                // 400: a query parameter is invalid (e.g. bus)
	CodeInvalidRule        = "AB.1007"                // 400: a rule document is invalid; "errors" lists every problem with line and column
	CodeInvalidRedrive     = "AB.1008"                // 400: a DLQ redrive names neither ids nor a rule, too many ids, or an unreadable event's entry
	CodeUnauthenticated    = auth.CodeUnauthenticated // 401: no valid identity (see WWW-Authenticate)
	CodeForbidden          = auth.CodeForbidden       // 403: the identity lacks the endpoint's action, or may not use the bus
	CodeNotFound           = "AB.4040"                // 404: no such endpoint
	CodeRuleNotFound       = "AB.4041"                // 404: no such rule on that bus
	CodeDeadLetterNotFound = "AB.4042"                // 404: a DLQ redrive names an id the dead-letter queue does not hold
	CodeTargetNotFound     = "AB.4043"                // 404: no such target of that rule (DLQ redrive, target enable)
	CodeNoSubscription     = "AB.4044"                // 404: a subscribe or unsubscribe URL names no subscription, or carries a wrong or outdated token
	CodeMethodNotAllowed   = "AB.4050"                // 405: endpoint exists, method does not
	CodeRuleConflict       = "AB.4090"                // 409: the rule is defined by a rule file, so the API cannot change it
	CodePrecondition       = "AB.4120"                // 412: If-Match does not match the rule's current revision
	CodeThrottled          = auth.CodeThrottled       // 429: too many failed authentication attempts from this address
	CodeRateLimited        = "AB.4291"                // 429: the client is over its ingest rate (--ingest-rate)
	CodeInternal           = "AB.5000"                // 500: a bug; the log has details
	CodeUnavailable        = "AB.5030"                // 503: the bus (or the rules bucket) did not answer; retrying is safe
	CodeStorageFull        = "AB.5070"                // 507: JetStream refused to store for lack of storage; retrying is safe once it clears
	CodeDiskFull           = "AB.5071"                // 507: the embedded JetStream's disk is full (ENOSPC) below its limit; retrying is safe once it clears
)

// storageRetryAfter is the Retry-After of a 507: room comes back when an
// operator frees space or old events expire, not within a second.
const storageRetryAfter = "30"

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Code    string `json:"error_code"`
	Message string `json:"error_msg"`
}

// writeError answers with code and msg, at the status the code implies.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	switch status {
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	case http.StatusInsufficientStorage:
		w.Header().Set("Retry-After", storageRetryAfter)
	}
	writeErrorBody(w, status, errorBody{Code: code, Message: msg})
}

// errInvalidParameter marks a bad query parameter inside an ingest.Error.
var errInvalidParameter = errors.New("invalid parameter")

// errorStatus maps an ingest, source or bus error to its status and code.
func errorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, errInvalidParameter):
		return http.StatusBadRequest, CodeInvalidParameter
	case errors.Is(err, ingest.ErrTooLarge), errors.Is(err, bus.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, CodeTooLarge
	case errors.Is(err, ingest.ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType, CodeUnsupportedMedia
	case errors.Is(err, ingest.ErrMissingAttribute):
		return http.StatusBadRequest, CodeMissingAttribute
	case errors.Is(err, ingest.ErrInvalidAttribute):
		return http.StatusBadRequest, CodeInvalidAttribute
	case errors.Is(err, ingest.ErrMalformed):
		return http.StatusBadRequest, CodeMalformed
	case errors.Is(err, bus.ErrStorageFull):
		return http.StatusInsufficientStorage, CodeStorageFull
	case errors.Is(err, bus.ErrDiskFull):
		return http.StatusInsufficientStorage, CodeDiskFull
	case errors.Is(err, bus.ErrUnavailable):
		return http.StatusServiceUnavailable, CodeUnavailable
	default:
		return http.StatusInternalServerError, CodeInternal
	}
}

// publicMessage is the error_msg for err: the error itself for a client
// mistake, which names what to fix, but a fixed text for server-side
// failures, whose details (NATS errors, internals) belong in the log.
func publicMessage(code string, err error) string {
	switch code {
	case CodeUnavailable:
		return "the bus did not acknowledge every event of the request in time; some may be stored, and re-sending the whole request is safe (duplicates are recognised by source and id)"
	case CodeStorageFull:
		// err names JetStream's cause and the refused event, no internals.
		return err.Error() + ": free space or raise --nats-max-store; nothing more will be accepted until it clears; events of the request before the refused one may be stored, and re-sending the whole request is safe (duplicates are recognised by source and id)"
	case CodeDiskFull:
		// err names the store's file; the log and /readyz have it.
		return bus.ErrDiskFull.Error() + " (no space left on device): free space on the filesystem of --data-dir; nothing more will be accepted until it has room, when auditbus reopens its JetStream streams by itself; events of the request acknowledged before the disk filled are stored, and re-sending the whole request is safe (duplicates are recognised by source and id)"
	case CodeInternal:
		return "internal error; the server log has the details"
	}
	return err.Error()
}

// writeJSON answers v as JSON. HTML characters stay as they are (no
// \u0026): answers are read by programs and people, not embedded in HTML,
// and rule expressions are full of &&.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeAuthError answers a refusal of the Authorizer.
func writeAuthError(w http.ResponseWriter, err error) {
	var e *auth.Error
	if !errors.As(err, &e) {
		e = &auth.Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Msg: err.Error()}
	}
	switch e.Status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", auth.Challenge)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		setRetryAfter(w, e.RetryAfter)
	}
	writeErrorBody(w, e.Status, errorBody{Code: e.Code, Message: e.Msg})
}

// permitBus answers 403 and returns false when the request's identity may
// not use bus.
func permitBus(w http.ResponseWriter, r *http.Request, bus string) bool {
	if auth.BusAllowed(r.Context(), bus) {
		return true
	}
	writeAuthError(w, auth.Forbidden(auth.FromContext(r.Context()), bus))
	return false
}

// scopeBus is the bus a request that may name none (a DLQ listing or
// redrive: every bus) works on. An identity limited to buses must stay in
// them: its one bus is the default, and one with several must name one.
func scopeBus(w http.ResponseWriter, r *http.Request, bus string) (string, bool) {
	id := auth.FromContext(r.Context())
	if id == nil || id.Buses() == nil {
		return bus, true
	}
	if bus != "" {
		return bus, permitBus(w, r, bus)
	}
	if buses := id.Buses(); len(buses) == 1 {
		return buses[0], true
	}
	writeAuthError(w, &auth.Error{Status: http.StatusForbidden, Code: CodeForbidden,
		Msg: fmt.Sprintf("identity %q is limited to buses %v: name one (bus)", id.Name, id.Buses())})
	return "", false
}

// setRetryAfter says to retry after d, in whole seconds, at least one.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
}
