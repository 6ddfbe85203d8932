package cts

import (
	"fmt"
	"net/http"
)

// CTS error codes this face answers (CTS API reference, 6.1).
const (
	CodeAuth           = "CTS.0002" // 401 and 403: authentication or permission
	CodeManagementName = "CTS.0204" // 400: tracker_name of the management tracker must be system
	CodeNoTracker      = "CTS.0214" // 404: no such (data) tracker
	CodeQuery          = "CTS.0300" // 400: a query parameter is invalid
	CodeRead           = "CTS.0005" // 500/503: the index could not be read
)

// Error is an answer in CTS's error shape.
type Error struct {
	Status int    `json:"-"`
	Code   string `json:"error_code"`
	Msg    string `json:"error_msg"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Msg }

func badQuery(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeQuery, Msg: fmt.Sprintf(format, args...)}
}

// CodeFor is the CTS code of an error answer of another part of the API
// (authentication, a method not allowed) on a CTS path, by its status.
func CodeFor(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		return CodeAuth
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotFound:
		return CodeQuery
	}
	return CodeRead
}
