package ingest

import (
	"encoding/json"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// Validate applies the checks Decode applies to an event built some other
// way, then sdk-go's own validation. Errors are *Error with Index -1.
func Validate(e *event.Event) error { return validate(e, false) }

// validate is Validate; jsonKnown says the event's data, when JSON, is a
// value of a body already checked to be valid UTF-8 JSON, so only the
// limits are left to check of it.
func validate(e *event.Event, jsonKnown bool) error {
	if e == nil || e.Context == nil {
		return missing("specversion", "the event has no context attributes")
	}
	ctx, ok := e.Context.(*event.EventContextV1)
	if !ok {
		return invalid("specversion", "%s is not supported: only CloudEvents 1.0 (specversion \"1.0\") is accepted", Quote(e.SpecVersion()))
	}
	if _, err := newContext(builtAttrSource(ctx)); err != nil {
		return err
	}
	if err := checkExtensions(ctx); err != nil {
		return err
	}
	if err := checkData(e, ctx, jsonKnown); err != nil {
		return err
	}
	return sdkValidate(e)
}

// builtAttrSource renders a context back to the strings the wire carries,
// so that built events go through exactly the checks decoded ones do.
func builtAttrSource(ctx *event.EventContextV1) attrSource {
	return func(name string) (string, bool, error) {
		var s string
		switch name {
		case "specversion":
			s = event.CloudEventsVersionV1
		case "id":
			s = ctx.ID
		case "source":
			s = ctx.Source.String()
		case "type":
			s = ctx.Type
		case "datacontenttype":
			return optional(ctx.DataContentType)
		case "subject":
			return optional(ctx.Subject)
		case "dataschema":
			if ctx.DataSchema == nil {
				return "", false, nil
			}
			s = ctx.DataSchema.String()
		case "time":
			if ctx.Time == nil {
				return "", false, nil
			}
			s = ctx.Time.String()
		}
		return s, s != "" || !isRequired(name), nil
	}
}

func optional(p *string) (string, bool, error) {
	if p == nil {
		return "", false, nil
	}
	return *p, true, nil
}

func checkExtensions(ctx *event.EventContextV1) error {
	for _, name := range slices.Sorted(maps.Keys(ctx.Extensions)) {
		if err := checkName(name); err != nil {
			return err
		}
		if isContextAttribute(name) || name == "data" {
			return invalid(name, "is not an extension name: it is reserved by CloudEvents")
		}
		switch v := ctx.Extensions[name].(type) {
		case string:
			if !utf8.ValidString(v) {
				return invalid(name, "is not valid UTF-8")
			}
			if err := checkControl(name, v); err != nil {
				return err
			}
		case bool, int32, []byte, types.URI, types.URIRef, types.Timestamp: // URIs are written percent-encoded
		default:
			return invalid(name, "has Go type %T, which is not a CloudEvents type", v)
		}
	}
	return nil
}

// checkData guarantees the event can be written as structured JSON and
// read back unchanged (see data.go for how the bus writes data), and that
// data declared JSON is JSON the router can process (checkJSONData).
func checkData(e *event.Event, ctx *event.EventContextV1, jsonKnown bool) error {
	if e.DataEncoded == nil {
		return nil
	}
	mt := mediaTypeOf(ctx)
	if e.DataBase64 {
		// Rules parse binary data declared JSON (a +json type) as JSON.
		if mt != "" && isJSONMediaType(mt) {
			return checkJSONValue(e.DataEncoded, mt, jsonKnown)
		}
		return nil
	}
	if isJSONMediaType(mt) {
		return checkJSONValue(e.DataEncoded, mt, jsonKnown)
	}
	if !utf8.Valid(e.DataEncoded) {
		return invalid("data", "is not UTF-8 text, so it must be carried as binary (data_base64)")
	}
	return nil
}

// checkJSONValue checks the limits first: past 10,000 levels json.Valid
// fails too, and "too deep" is the more useful of the two answers.
func checkJSONValue(b []byte, mt string, known bool) error {
	if err := checkJSONData("data", b); err != nil {
		return err
	}
	if !known && (!utf8.Valid(b) || !json.Valid(b)) {
		return invalid("data", "is not valid JSON, but the datacontenttype %q says it is", mt)
	}
	return nil
}

// sdkValidate runs sdk-go's validation as a last line of defence; its
// error is a map, so the first attribute in name order is reported.
func sdkValidate(e *event.Event) error {
	err := e.Validate()
	if err == nil {
		return nil
	}
	verr, ok := err.(event.ValidationError)
	if !ok || len(verr) == 0 {
		return invalid("", "rejected by the CloudEvents SDK: %v", err)
	}
	name := slices.Min(slices.Collect(maps.Keys(verr)))
	return invalid(name, "rejected by the CloudEvents SDK: %v", verr[name])
}
