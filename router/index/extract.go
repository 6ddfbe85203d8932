package index

import (
	"fmt"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/bus"
)

// ErrUndecodable marks a stored message that is not an event auditbus
// wrote; the indexer skips it (and counts it) rather than stall on it.
var ErrUndecodable = fmt.Errorf("undecodable stored event")

// FromMessage builds the Record of the message stored at seq on subject
// with body data. stored is when JetStream stored it, the time of an
// event that has none.
func FromMessage(seq uint64, subject string, data []byte, stored time.Time) (Record, error) {
	rest, ok := strings.CutPrefix(subject, bus.SubjectPrefix+".")
	busName, _, _ := strings.Cut(rest, ".")
	if !ok || busName == "" {
		return Record{}, fmt.Errorf("%w: seq %d: subject %q is not an event subject", ErrUndecodable, seq, subject)
	}
	return fromEvent(seq, busName, data, stored)
}

// fromEvent is FromMessage once the bus is known: what the indexer and
// the backfill of an older index (fillColumns) both derive a row from.
// It reads the event's bytes once (readEnvelope, dataState) rather than
// decode the event and its data into Go values: the record is the same
// as sdk-go's decoding and encoding/json's reading of the data would
// give (TestExtractMatchesReference and FuzzExtract hold it to that).
func fromEvent(seq uint64, busName string, data []byte, stored time.Time) (Record, error) {
	env, err := readEnvelope(data)
	if err != nil {
		return Record{}, fmt.Errorf("%w: seq %d: %v", ErrUndecodable, seq, err)
	}
	var d dataState
	// Each of the readers the index had decoded data as a whole, so data
	// that is not a valid JSON object gave none of them anything.
	if len(env.data) > 0 && env.data[0] == '{' && (env.dataValid || validJSON(env.data)) {
		d.read(env.data)
	}
	x := &env.ext
	product, _ := bus.ProductKind(env.typ)
	r := Record{
		Seq: seq, Bus: busName, Time: env.time, ID: env.id, Source: env.source, Type: env.typ,
		Subject: env.subject, Kind: x.kind, Product: product, Action: action(&env, &d),
		Principal: x.principal, ResourceType: x.resourcetype, ResourceName: x.resourcename,
		Outcome: x.outcome, Code: x.code, SourceIP: x.sourceip, Region: x.region,
		Cluster: x.cluster, TraceRating: x.tracerating, Event: data,
	}
	r.ResourceID, r.RequestID = d.ids()
	k8sFields(&r, x, &d)
	r.TraceRating = Rating(r.TraceRating, r.Outcome)
	if r.Time.IsZero() {
		r.Time = stored
	}
	r.Time = r.Time.UTC()
	return r, nil
}

// action is bus.Action's answer: the action extension, else for JSON
// data the eventName of a raw Tencent record (none if any eventName in
// it is not a string, as bus.Action's decoding then fails).
func action(env *envelope, d *dataState) string {
	if env.ext.action != "" {
		return env.ext.action
	}
	if d.eventNameBad || !jsonContentType(env.contentType) {
		return ""
	}
	return d.eventName
}

// jsonContentType is bus.Action's test of a JSON content type: none,
// application/json, text/json or any +json type, parameters and case
// aside.
func jsonContentType(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == "" || ct == "application/json" || ct == "text/json" || strings.HasSuffix(ct, "+json")
}

// Rating is the trace rating of an event with extensions tracerating and
// outcome: CTS rates every trace (tracerating); other sources' events are
// rated the way CTS would, warning for a failure, else normal, so a
// rating filter or search finds them too. router/cts compiles a
// notification's trace_rating filter to the same rule (ratingExpr there;
// its tests compare the two).
func Rating(tracerating, outcome string) string {
	switch {
	case tracerating != "":
		return tracerating
	case outcome == "failure":
		return "warning"
	}
	return "normal"
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
