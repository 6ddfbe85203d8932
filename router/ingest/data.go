package ingest

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/cejson"
)

// The bus stores events as structured JSON written by cejson: sdk-go's
// writer, which copies data verbatim when it considers the media type JSON,
// writes base64 when Event.DataBase64 is set, and otherwise writes the
// bytes as a JSON string; cejson also writes a JSON value (not a string or
// null) under any other +json type verbatim. The helpers below pick, for
// every data payload, the representation that makes the stored JSON valid
// and read back to the very bytes the producer sent.

// mediaTypeOf returns the lowercased media type without parameters, ""
// when datacontenttype is absent. The value was validated on the way in.
func mediaTypeOf(ctx *event.EventContextV1) string {
	if ctx.DataContentType == nil {
		return ""
	}
	mt, _, err := mime.ParseMediaType(*ctx.DataContentType)
	if err != nil {
		return ""
	}
	return mt
}

// writtenAsJSON mirrors sdk-go's own list (event/content_type.go), which
// decides whether WriteJson emits data as a raw JSON value.
func writtenAsJSON(mt string) bool {
	switch mt {
	case "", event.ApplicationJSON, event.TextJSON,
		event.ApplicationCloudEventsJSON, event.ApplicationCloudEventsBatchJSON:
		return true
	}
	return false
}

// isJSONMediaType is the spec's definition: application/json or any
// +json structured syntax suffix.
func isJSONMediaType(mt string) bool {
	return writtenAsJSON(mt) || strings.HasSuffix(mt, "+json")
}

func isText(mt string) bool {
	return strings.HasPrefix(mt, "text/") || mt == event.ApplicationXML || strings.HasSuffix(mt, "+xml")
}

// setStructuredData applies the JSON format's rules for "data". Without a
// datacontenttype the value is JSON, and application/json is recorded so
// that consumers need not know this default. Under a +json type that
// sdk-go does not recognise, a JSON string or null is kept as binary:
// sdk-go would read a stored string back without its quotes.
func setStructuredData(e *event.Event, ctx *event.EventContextV1, raw json.RawMessage) error {
	mt := mediaTypeOf(ctx)
	switch {
	case writtenAsJSON(mt):
		if ctx.DataContentType == nil {
			ct := event.ApplicationJSON
			ctx.DataContentType = &ct
		}
		e.DataEncoded = raw
	case isJSONMediaType(mt):
		e.DataEncoded, e.DataBase64 = raw, !cejson.StoredAsValue(raw)
	default:
		if raw[0] != '"' {
			return invalid("data", "datacontenttype %q is not JSON, so data must be a JSON string (use data_base64 for binary data); got a JSON %s", *ctx.DataContentType, jsonKind(raw))
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return malformed("data: %v", err)
		}
		e.DataEncoded = []byte(s)
	}
	return nil
}

// setBase64Data accepts only canonical standard base64: line breaks and
// non-zero padding bits would be silently dropped by a lenient decoder.
// Bytes declared JSON must be JSON, as in binary mode, since rules and
// consumers will parse them as such.
func setBase64Data(e *event.Event, ctx *event.EventContextV1, raw json.RawMessage) error {
	if raw[0] != '"' {
		return invalid("data_base64", "must be a JSON string holding standard base64, got a JSON %s", jsonKind(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return malformed("data_base64: %v", err)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || strings.ContainsAny(s, "\r\n") {
		return newError(ErrMalformed, "data_base64", "is not standard base64 (RFC 4648, padded, no line breaks)")
	}
	if b == nil {
		b = []byte{}
	}
	if mt := mediaTypeOf(ctx); mt != "" && isJSONMediaType(mt) {
		if err := checkJSONData("data_base64", b); err != nil {
			return err
		}
		if !utf8.Valid(b) || !json.Valid(b) {
			return newError(ErrMalformed, "data_base64", "datacontenttype %q declares JSON but the decoded bytes are not valid UTF-8 JSON", *ctx.DataContentType)
		}
	}
	e.DataEncoded, e.DataBase64 = b, true
	return nil
}

// setBinaryData stores an HTTP body. Without a media type the bytes are
// opaque; text stays text; a body declared JSON must be JSON, since the
// rules engine and every consumer will parse it as such.
func setBinaryData(e *event.Event, ctx *event.EventContextV1, body []byte) error {
	if len(body) == 0 {
		return nil
	}
	mt := mediaTypeOf(ctx)
	e.DataEncoded = body
	switch {
	case mt == "":
		e.DataBase64 = true
	case isJSONMediaType(mt):
		if !utf8.Valid(body) || !json.Valid(body) {
			// Past 10,000 levels json.Valid fails too: say why. Within
			// them, Validate applies the limits.
			if err := checkJSONData("data", body); err != nil {
				return err
			}
			return malformed("Content-Type %q declares JSON but the body is not valid UTF-8 JSON", *ctx.DataContentType)
		}
		e.DataBase64 = !writtenAsJSON(mt) && !cejson.StoredAsValue(body)
	default:
		e.DataBase64 = !isText(mt) || !utf8.Valid(body)
	}
	return nil
}

func jsonKind(raw []byte) string {
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
