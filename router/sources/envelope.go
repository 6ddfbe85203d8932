package sources

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// Audit extension names, the same for every source.
const (
	ExtPrincipal    = "principal"
	ExtAction       = "action"
	ExtResourceType = "resourcetype"
	ExtResourceName = "resourcename"
	ExtOutcome      = "outcome"
	ExtSourceIP     = "sourceip"
	ExtRegion       = "region"
	// ExtKind is the source's own kind of call, as its event bus spells it
	// (Tencent ApiCall, ConsoleCall; CTS ConsoleAction, SystemAction, ObsSDK;
	// K8sAudit for Kubernetes): the last segment of a Tencent or CTS type.
	ExtKind = "kind"
	// The fields CTS key-operation notification filters test (trace_rating,
	// api_version, code), filled from the nearest field of other sources.
	ExtTraceRating = "tracerating"
	ExtAPIVersion  = "apiversion"
	ExtCode        = "code"
)

// Outcome values.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Audit is what every source says about one operation: who did what to
// which resource, from where, and whether it worked.
type Audit struct {
	Principal    string
	Action       string
	ResourceType string
	ResourceName string
	Outcome      string // OutcomeSuccess, OutcomeFailure, or "" when the record does not say
	SourceIP     string
	Kind         string // the source's own kind of call (ExtKind)
	TraceRating  string // CTS trace_rating: normal, warning, incident
	APIVersion   string // the version of the API that was called
	Code         string // the result code as the record writes it (CTS: the HTTP status)
}

// Envelope is one audit record on its way to becoming a CloudEvent.
type Envelope struct {
	ID      string
	Source  string
	Type    string
	Subject string
	Time    time.Time
	Region  string
	Audit   Audit
	// Extra extensions a source adds (e.g. "cluster"); names must be
	// lowercase alphanumerics, values strings.
	Extra map[string]string
	// Record is the raw record; it becomes data after redaction.
	Record json.RawMessage
}

// Build turns an envelope into a validated CloudEvent whose data is the
// record with secrets redacted by r. Empty optional attributes and
// extensions are left out rather than stored empty.
func Build(env Envelope, r *Redactor) (event.Event, error) {
	data, err := r.JSON(env.Record)
	if err != nil {
		return event.Event{}, err
	}
	e := event.New()
	e.SetID(env.ID)
	e.SetSource(env.Source)
	e.SetType(env.Type)
	if env.Subject != "" {
		e.SetSubject(env.Subject)
	}
	if !env.Time.IsZero() {
		e.SetTime(env.Time.UTC())
	}
	e.SetDataContentType(event.ApplicationJSON)
	e.DataEncoded = data
	exts := map[string]string{
		ExtRegion: env.Region, ExtPrincipal: env.Audit.Principal, ExtAction: env.Audit.Action,
		ExtResourceType: env.Audit.ResourceType, ExtResourceName: env.Audit.ResourceName,
		ExtOutcome: env.Audit.Outcome, ExtSourceIP: env.Audit.SourceIP, ExtKind: env.Audit.Kind,
		ExtTraceRating: env.Audit.TraceRating, ExtAPIVersion: env.Audit.APIVersion, ExtCode: env.Audit.Code,
	}
	for k, v := range env.Extra {
		if _, standard := exts[k]; standard {
			return event.Event{}, fmt.Errorf("extension %q is set by every source and cannot be an extra", k)
		}
		exts[k] = v
	}
	for k, v := range exts {
		if v != "" {
			e.SetExtension(k, v)
		}
	}
	if err := ingest.Validate(&e); err != nil {
		return event.Event{}, fmt.Errorf("normalized event: %w", err)
	}
	if err := unchanged(env, &e); err != nil {
		return event.Event{}, err
	}
	return e, nil
}

// unchanged rejects values that sdk-go's setters rewrote (they trim white
// space and percent-encode sources): source and id are the dedup key, so
// what is stored must be what the record said.
func unchanged(env Envelope, e *event.Event) error {
	for _, f := range []struct{ name, want, got string }{
		{"id", env.ID, e.ID()}, {"source", env.Source, e.Source()},
		{"type", env.Type, e.Type()}, {"subject", env.Subject, e.Subject()},
	} {
		if f.got != f.want {
			return &ingest.Error{Kind: ingest.ErrInvalidAttribute, Index: -1, Attribute: f.name,
				Msg: fmt.Sprintf("%q would be stored as %q; remove surrounding spaces or characters a URI cannot hold", f.want, f.got)}
		}
	}
	return nil
}
