package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
)

// SubjectPrefix starts every event subject.
const SubjectPrefix = "auditbus.events"

// maxToken bounds one subject token so a hostile attribute cannot make
// subjects of arbitrary length.
const maxToken = 64

// Placeholder stands for a token that has no value (no product, no action).
const Placeholder = "_"

// Subject returns the subject an event is stored on:
//
//	auditbus.events.<bus>.<product>.<kind>.<action>
//
// Product and kind come from an audit type (see ProductKind), kind from the
// "kind" extension when the event has one; any other type gives product "_"
// and the type itself as kind. Action is the "action" extension, else
// data.eventName when data is a JSON object, else "_". Each token is
// sanitized by Token.
func Subject(bus string, e *event.Event) string {
	product, kind := ProductKind(e.Type())
	if k, ok := e.Extensions()["kind"].(string); ok && k != "" && product != "" {
		kind = k
	}
	return strings.Join([]string{SubjectPrefix, Token(bus), Token(product), Token(kind), Token(Action(e))}, ".")
}

// typeFamilies are the audit types' middle segments: Tencent EventBridge's
// <product>:CloudEvent:<kind>, Huawei EventGrid's <SERVICE>:CloudTrace:<kind>,
// and auditbus's <product>:K8sAudit:<verb>, whose kind is K8sAudit.
var typeFamilies = map[string]bool{"CloudEvent": true, "CloudTrace": true}

const k8sFamily = "K8sAudit"

// ProductKind splits an audit event type: "tke:CloudEvent:ApiCall" gives
// tke, ApiCall; "VPC:CloudTrace:ConsoleAction" VPC, ConsoleAction;
// "tke:K8sAudit:delete" tke, K8sAudit. Other types yield product "" and
// the whole type as kind.
func ProductKind(typ string) (product, kind string) {
	p, rest, ok := strings.Cut(typ, ":")
	family, last, ok2 := strings.Cut(rest, ":")
	switch {
	case !ok || !ok2 || p == "" || last == "":
		return "", typ
	case typeFamilies[family]:
		return p, last
	case family == k8sFamily:
		return p, k8sFamily
	}
	return "", typ
}

// Action is the operation an event records: the "action" extension, or for a
// raw Tencent record sent as data, its eventName. "" when neither exists.
func Action(e *event.Event) string {
	if a, ok := e.Extensions()["action"].(string); ok && a != "" {
		return a
	}
	if !isJSON(e.DataContentType()) || len(e.Data()) == 0 || e.Data()[0] != '{' {
		return ""
	}
	var peek struct {
		EventName string `json:"eventName"`
	}
	if json.Unmarshal(e.Data(), &peek) != nil {
		return ""
	}
	return peek.EventName
}

func isJSON(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == "" || ct == "application/json" || ct == "text/json" || strings.HasSuffix(ct, "+json")
}

// Token makes s usable as one subject token: characters other than ASCII
// letters, digits, '-' and '_' become '_' (dots would split the token,
// '*' and '>' are wildcards, spaces are illegal), an empty token becomes "_",
// and tokens are cut at 64 bytes. Different values can therefore share a
// token; subjects are for coarse filtering, the event itself stays exact.
func Token(s string) string {
	if s == "" {
		return Placeholder
	}
	if len(s) > maxToken {
		s = s[:maxToken]
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// BusOf returns the bus token of an event subject, "" if subj is not one.
func BusOf(subj string) string {
	rest, ok := strings.CutPrefix(subj, SubjectPrefix+".")
	if !ok {
		return ""
	}
	bus, _, _ := strings.Cut(rest, ".")
	return bus
}

// MsgID is the JetStream message id of an event on bus: a hash of bus,
// source and id. Source and id are the pair CloudEvents defines as unique;
// the bus is part of it because all buses share one stream, and the same
// event sent to two buses must be stored on both. Hashing keeps the id short
// and header-safe whatever the attributes hold.
func MsgID(bus string, e *event.Event) string {
	h := sha256.New()
	h.Write([]byte(bus))
	h.Write([]byte{0})
	h.Write([]byte(e.Source()))
	h.Write([]byte{0})
	h.Write([]byte(e.ID()))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
