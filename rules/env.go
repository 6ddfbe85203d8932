package rules

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// Env is what patterns, conditions and inputs see: CloudEvents attributes
// by lowercase name plus "data", the payload.
type Env = map[string]any

// NewEnv flattens an event into an Env. JSON payloads are parsed (numbers
// become float64, as in any JSON consumer); other payloads, and payloads
// that claim JSON but do not parse, are exposed as a string.
func NewEnv(e *event.Event) Env {
	exts := e.Extensions()
	env := make(Env, 9+len(exts))
	for k, v := range exts {
		env[k] = extensionValue(v)
	}
	env["specversion"] = e.SpecVersion()
	env["id"] = e.ID()
	env["source"] = e.Source()
	env["type"] = e.Type()
	setIf(env, "subject", e.Subject())
	setIf(env, "datacontenttype", e.DataContentType())
	setIf(env, "dataschema", e.DataSchema())
	if t := e.Time(); !t.IsZero() {
		env["time"] = t.UTC().Format(time.RFC3339Nano)
	}
	data := e.Data()
	if len(data) == 0 {
		return env
	}
	var v any
	if isJSON(e.DataContentType()) && json.Unmarshal(data, &v) == nil {
		env["data"] = v
		return env
	}
	// Not JSON, or bytes that do not parse as the JSON they claim to be:
	// rules still see the event, with data as a string, rather than the
	// event being dropped for its payload.
	env["data"] = string(data)
	return env
}

func setIf(env Env, key, value string) {
	if value != "" {
		env[key] = value
	}
}

func isJSON(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// extensionValue keeps the Go types patterns can compare directly and turns
// the rest into the strings they are on the wire.
func extensionValue(v any) any {
	switch x := v.(type) {
	case string, bool, int32:
		return x
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}
