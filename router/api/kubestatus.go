package api

import (
	"net/http"

	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/hss"
)

// kubeStatusWriter marks the answers of the Kubernetes audit endpoints,
// whose client is the kube-apiserver's audit webhook backend: client-go
// reads an error answer only as a Kubernetes Status object, and logs
// anything else as "unknown", so the operator reading the apiserver's log
// would never see why auditbus refused. Their error bodies carry both
// shapes: error_code and error_msg, and the Status fields.
type kubeStatusWriter struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the connection.
func (w kubeStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// kubeStatusBody is errorBody with a Kubernetes Status (meta/v1) beside it.
type kubeStatusBody struct {
	errorBody
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Status     string `json:"status"`
	Message    string `json:"message"`
	Reason     string `json:"reason,omitempty"`
	StatusCode int    `json:"code"`
}

// kubeReasons are the Status reasons client-go knows for our statuses.
var kubeReasons = map[int]string{
	http.StatusBadRequest: "BadRequest", http.StatusUnauthorized: "Unauthorized", http.StatusForbidden: "Forbidden",
	http.StatusNotFound: "NotFound", http.StatusMethodNotAllowed: "MethodNotAllowed",
	http.StatusRequestEntityTooLarge: "RequestEntityTooLarge", http.StatusUnsupportedMediaType: "UnsupportedMediaType",
	http.StatusTooManyRequests: "TooManyRequests", http.StatusInternalServerError: "InternalError",
	http.StatusServiceUnavailable: "ServiceUnavailable",
}

// writeErrorBody answers an error, as a Status too on the Kubernetes
// audit endpoints.
func writeErrorBody(w http.ResponseWriter, status int, body errorBody) {
	if _, ok := w.(ctsErrorWriter); ok {
		body.Code = cts.CodeFor(status)
	}
	if _, ok := w.(hssErrorWriter); ok {
		body.Code = hss.CodeFor(status)
	}
	if _, ok := w.(kubeStatusWriter); !ok {
		writeJSON(w, status, body)
		return
	}
	writeJSON(w, status, kubeStatusBody{errorBody: body, Kind: "Status", APIVersion: "v1", Status: "Failure",
		Message: body.Code + ": " + body.Message, Reason: kubeReasons[status], StatusCode: status})
}
