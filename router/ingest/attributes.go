package ingest

import (
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// contextOrder lists the CloudEvents 1.0 context attributes in the order
// they are checked, specversion first: an event of another spec version
// should be told so, not that some 1.0 attribute looks odd.
var contextOrder = []string{
	"specversion", "id", "source", "type",
	"datacontenttype", "dataschema", "subject", "time",
}

func isContextAttribute(name string) bool {
	for _, n := range contextOrder {
		if n == name {
			return true
		}
	}
	return false
}

func isRequired(name string) bool {
	switch name {
	case "specversion", "id", "source", "type":
		return true
	}
	return false
}

// checkName enforces the spec's attribute naming rule: lowercase ASCII
// letters and digits. sdk-go also accepts upper case and would fold it,
// so two different names could become one; hence the check here.
// The spec only RECOMMENDS at most 20 characters, and real producers
// exceed it, so longer names are accepted.
func checkName(name string) error {
	if name == "" {
		return invalid("", "empty attribute name; names are 1 or more lowercase letters a-z and digits 0-9")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return invalid(name, "invalid name: character %q is not allowed; names use only lowercase letters a-z and digits 0-9", rune(c))
		}
	}
	return nil
}

// attrSource yields the string form of a context attribute, which both the
// JSON format and the HTTP headers use for every context attribute; ok is
// false when the attribute is not set. It is called in contextOrder, so a
// source that converts lazily reports problems in that order too.
type attrSource func(name string) (value string, ok bool, err error)

func newContext(get attrSource) (*event.EventContextV1, error) {
	ctx := &event.EventContextV1{}
	for _, name := range contextOrder {
		s, ok, err := get(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			if isRequired(name) {
				return nil, missing(name, "is required but not set")
			}
			continue
		}
		if err := setContextAttribute(ctx, name, s); err != nil {
			return nil, err
		}
	}
	return ctx, nil
}

// setContextAttribute writes the fields directly rather than through
// sdk-go's setters, which trim whitespace and so would store something
// other than what the producer sent.
func setContextAttribute(ctx *event.EventContextV1, name, s string) error {
	if !utf8.ValidString(s) {
		return invalid(name, "is not valid UTF-8")
	}
	if s == "" {
		if isRequired(name) {
			return missing(name, "is empty; a non-empty string is required")
		}
		return invalid(name, "is empty; when present it must be a non-empty string")
	}
	if err := checkControl(name, s); err != nil {
		return err
	}
	var err error
	switch name {
	case "specversion":
		if s != event.CloudEventsVersionV1 {
			return invalid(name, "%s is not supported: only CloudEvents 1.0 (specversion \"1.0\") is accepted", Quote(s))
		}
	case "id":
		ctx.ID, err = nonBlank(name, s)
	case "type":
		ctx.Type, err = nonBlank(name, s)
	case "subject":
		var v string
		v, err = nonBlank(name, s)
		ctx.Subject = &v
	case "source":
		var u *url.URL
		if u, err = parseURIRef(name, s); err == nil {
			ctx.Source = types.URIRef{URL: *u}
		}
	case "dataschema":
		ctx.DataSchema, err = parseAbsoluteURI(name, s)
	case "datacontenttype":
		ctx.DataContentType, err = parseMediaType(name, s)
	case "time":
		ctx.Time, err = parseTime(name, s)
	}
	return err
}

// nonBlank rejects whitespace-only values: sdk-go's Validate does, and an
// id or type of spaces is a producer bug, not an identifier.
func nonBlank(name, s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", invalid(name, "%s is blank; a non-empty string is required", Quote(s))
	}
	return s, nil
}

// parseURIRef also requires the value to survive url.URL's re-encoding
// unchanged: source is half of the deduplication key and rules match on
// it, so the stored value must be exactly the one the producer sent.
func parseURIRef(name, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, invalid(name, "%s is not a URI-reference (RFC 3986): %v", Quote(s), unwrapURLError(err))
	}
	if got := u.String(); got != s {
		return nil, invalid(name, "%s is not a URI-reference in canonical form (it would be stored as %s); percent-encode spaces and other characters RFC 3986 does not allow", Quote(s), Quote(got))
	}
	return u, nil
}

func parseAbsoluteURI(name, s string) (*types.URI, error) {
	u, err := parseURIRef(name, s)
	if err != nil {
		return nil, err
	}
	if !u.IsAbs() {
		return nil, invalid(name, "%s is not an absolute URI; it needs a scheme such as https:", Quote(s))
	}
	return &types.URI{URL: *u}, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func parseMediaType(name, s string) (*string, error) {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return nil, invalid(name, "%s is not a media type (RFC 2046) such as application/json: %v", Quote(s), err)
	}
	// mime.ParseMediaType also accepts Content-Disposition values.
	if !strings.Contains(mt, "/") {
		return nil, invalid(name, "%s is not a media type (RFC 2046) such as application/json: no type/subtype", Quote(s))
	}
	return &s, nil
}

// parseTime bounds the year because time is stored in UTC as RFC 3339,
// and an offset can push a year-0 or year-9999 instant outside the four
// digits RFC 3339 allows, giving a stored event that cannot be read back.
func parseTime(name, s string) (*types.Timestamp, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, invalid(name, "%s is not an RFC 3339 timestamp such as 2024-05-01T12:00:00Z", Quote(s))
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil, invalid(name, "%s is outside years 0000-9999 once converted to UTC", Quote(s))
	}
	return &types.Timestamp{Time: t}, nil
}

// setExtension assumes value is already one of the CloudEvents types
// produced by this package; sdk-go still checks name and value.
func setExtension(ctx *event.EventContextV1, name string, value any) error {
	if isContextAttribute(name) || name == "data" {
		return invalid(name, "is not an extension name: it is reserved by CloudEvents")
	}
	if err := ctx.SetExtension(name, value); err != nil {
		return invalid(name, "rejected: %v", err)
	}
	return nil
}
