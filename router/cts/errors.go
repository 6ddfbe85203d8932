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

// Error codes of the tracker, quota and notification endpoints (CTS API
// reference, 6.1).
const (
	CodeBody              = "CTS.0003" // 400: body empty or invalid, or a feature auditbus refuses (LTS, validation)
	CodeTrackerQuota      = "CTS.0200" // 400: the data trackers' quota is used up
	CodeManagementExists  = "CTS.0201" // 400: the management tracker exists
	CodeTrackerType       = "CTS.0202" // 400: tracker_type is not system or data
	CodeTrackerName       = "CTS.0203" // 400: tracker_name's format
	CodeStatus            = "CTS.0205" // 400: status is not enabled or disabled
	CodeManagementData    = "CTS.0206" // 400: data_bucket on a management tracker
	CodeDataNameSystem    = "CTS.0207" // 400: a data tracker named system
	CodeTrackerExists     = "CTS.0208" // 403: a data tracker of that name exists
	CodeTrackedTwice      = "CTS.0209" // 400: a bucket's operation type tracked by two trackers
	CodeNoBucket          = "CTS.0211" // 400: the bucket is not one the operator declared
	CodeTrackedBucketSet  = "CTS.0212" // 400: data_bucket_name cannot change
	CodeTrackedIsTransfer = "CTS.0213" // 400: the tracked bucket is the transfer bucket
	CodeBucketExists      = "CTS.0215" // 400: is_obs_created on a bucket that exists
	CodeBucketCreate      = "CTS.0216" // 400: the bucket cannot be created
	CodeLifecycle         = "CTS.0217" // 400: bucket_lifecycle is not 30, 60, 90, 180 or 1095
	CodeFilePrefix        = "CTS.0218" // 400: file_prefix_name's format
	CodeNoDataEvent       = "CTS.0219" // 400: data_event is empty
	CodeKMS               = "CTS.0220" // 400: KMS encryption is not supported
	CodeNoKMSID           = "CTS.0221" // 400: encryption asked without kms_id
	CodeDataEvent         = "CTS.0225" // 400: data_event other than READ and WRITE
	CodeBucketName        = "CTS.0231" // 400: bucket name's format
	CodeWrite             = "CTS.0004" // 500/503: the tracker store could not be written
)

func bad(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Msg: fmt.Sprintf(format, args...)}
}
