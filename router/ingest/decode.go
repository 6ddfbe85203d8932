package ingest

import (
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
)

type mode int

const (
	modeBinary mode = iota
	modeStructured
	modeBatch
)

const acceptedModes = "send application/cloudevents+json (structured mode), " +
	"application/cloudevents-batch+json (batched mode), " +
	"or binary mode with a ce-specversion header and the data in the body"

// Decode reads the CloudEvents of one HTTP request. It returns every event
// of the request, all valid, or an *Error and no events. The body is read
// first, up to the limit, so an oversized request is always ErrTooLarge.
func Decode(r *http.Request, opts ...Option) ([]event.Event, error) {
	o := buildOptions(opts)
	body, err := ReadBody(r, o.maxBodyBytes)
	if err != nil {
		return nil, err
	}
	m, err := selectMode(r.Header)
	if err != nil {
		return nil, err
	}
	switch m {
	case modeBatch:
		return DecodeBatch(body)
	case modeStructured:
		e, err := DecodeStructured(body)
		if err != nil {
			return nil, err
		}
		return []event.Event{e}, nil
	}
	e, err := decodeBinary(r.Header, body)
	if err != nil {
		return nil, err
	}
	return []event.Event{e}, nil
}

// ReadBody reads a request body of at most max bytes, reading max+1 at
// most: enough to tell that a body is too large (ErrTooLarge) without
// buffering all of it. Other endpoints that take raw records use it too.
func ReadBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, tooLarge(max)
	}
	if r.Body == nil {
		return nil, nil
	}
	limit := max
	if limit < math.MaxInt64 {
		limit++
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit)
		}
		return nil, malformed("reading the body failed: %v", err)
	}
	if int64(len(b)) > max {
		return nil, tooLarge(max)
	}
	return b, nil
}

func tooLarge(max int64) error {
	return newError(ErrTooLarge, "", "the body exceeds the limit of %d bytes; split the events into smaller batches", max)
}

// selectMode follows the HTTP binding: a CloudEvents media type means
// structured or batched mode, whatever ce-* headers say; otherwise a
// ce-specversion header means binary mode.
func selectMode(h http.Header) (mode, error) {
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if strings.HasPrefix(strings.ToLower(ct), "application/cloudevents") {
		if err != nil {
			return 0, newError(ErrUnsupportedMediaType, "", "Content-Type %s cannot be parsed: %v", Quote(ct), err)
		}
		return cloudEventsMode(mt, params)
	}
	if hasSpecVersionHeader(h) {
		return modeBinary, nil
	}
	if ct == "" {
		return 0, newError(ErrUnsupportedMediaType, "", "no Content-Type and no ce-specversion header; %s", acceptedModes)
	}
	return 0, newError(ErrUnsupportedMediaType, "", "Content-Type %s without a ce-specversion header is not a CloudEvents request; %s", Quote(ct), acceptedModes)
}

func cloudEventsMode(mt string, params map[string]string) (mode, error) {
	var m mode
	switch mt {
	case event.ApplicationCloudEventsJSON:
		m = modeStructured
	case event.ApplicationCloudEventsBatchJSON:
		m = modeBatch
	default:
		return 0, newError(ErrUnsupportedMediaType, "", "event format %s is not supported; %s", Quote(mt), acceptedModes)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return 0, newError(ErrUnsupportedMediaType, "", "charset %s is not supported; CloudEvents JSON must be UTF-8", Quote(cs))
	}
	return m, nil
}

// hasSpecVersionHeader matches the name case-insensitively, like
// binaryAttributes, in case the header map was not built by net/http.
func hasSpecVersionHeader(h http.Header) bool {
	for key := range h {
		if strings.EqualFold(key, "ce-specversion") {
			return true
		}
	}
	return false
}
