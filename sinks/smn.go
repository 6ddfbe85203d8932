package sinks

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// The smn format mimics the HTTP(S) messages of Huawei Cloud SMN (Simple
// Message Notification), so receivers written for SMN topics accept
// auditbus deliveries unchanged.
const (
	// SMNTypeNotification is the message type of every smn delivery.
	SMNTypeNotification = "Notification"
	// SMNTypeSubscriptionConfirmation is the message a target with
	// `confirm: true` receives before its first delivery: it carries the
	// subscribe_url the endpoint GETs to consent.
	SMNTypeSubscriptionConfirmation = "SubscriptionConfirmation"
	// SMNSignatureVersion is the signature_version SMN messages carry.
	SMNSignatureVersion = "v1"
	// SMNTimestampLayout is SMN's timestamp: ISO 8601, UTC, whole seconds.
	SMNTimestampLayout = "2006-01-02T15:04:05Z"
	// SigningCertPath is where the router serves the signing certificate,
	// under its public URL.
	SigningCertPath = "/v1/signing-cert"
)

// SMN headers, set on every smn delivery.
const (
	HeaderSMNMessageType     = "X-SMN-MESSAGE-TYPE"
	HeaderSMNMessageID       = "X-SMN-MESSAGE-ID"
	HeaderSMNTopicURN        = "X-SMN-TOPIC-URN"
	HeaderSMNSubscriptionURN = "X-SMN-SUBSCRIPTION-URN"
)

// errNoSigner is a router bug: serve always provides a signer, and only
// `rules validate` builds sinks without one.
var errNoSigner = errors.New("smn format: no signing key or public URL (the router did not provide them)")

// SMNMessage is the JSON body of an smn delivery. Signature is the base64
// SHA256withRSA signature of StringToSign by the key of the certificate at
// SigningCertURL.
type SMNMessage struct {
	Type      string `json:"type"`
	MessageID string `json:"message_id"`
	TopicURN  string `json:"topic_urn"`
	// Subject is left out of the JSON, and of the signed string, when empty,
	// as SMN does.
	Subject string `json:"subject,omitempty"`
	// Message is the delivered content as a string: the structured
	// CloudEvent JSON, or the target's input payload (text as is, anything
	// else as JSON).
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
	// SubscribeURL is set in a SubscriptionConfirmation only: GETting it
	// confirms the subscription.
	SubscribeURL string `json:"subscribe_url,omitempty"`
	// UnsubscribeURL is set in the Notifications of a confirmed
	// subscription (`confirm: true`): GETting it stops the deliveries.
	// Targets without confirmation have no subscription, so no URL.
	UnsubscribeURL   string `json:"unsubscribe_url,omitempty"`
	SignatureVersion string `json:"signature_version"`
	Signature        string `json:"signature"`
	SigningCertURL   string `json:"signing_cert_url"`
}

// StringToSign returns what SMN signs: the signed keys of the message's
// type in name order, each written as "key\nvalue\n". A Notification signs
// message, message_id, subject (unless empty), timestamp, topic_urn and
// type; a SubscriptionConfirmation signs message, message_id,
// subscribe_url, timestamp, topic_urn and type.
func (m *SMNMessage) StringToSign() string {
	third := [2]string{"subject", m.Subject}
	if m.Type != SMNTypeNotification {
		third = [2]string{"subscribe_url", m.SubscribeURL}
	}
	var b strings.Builder
	for _, kv := range [][2]string{
		{"message", m.Message}, {"message_id", m.MessageID}, third,
		{"timestamp", m.Timestamp}, {"topic_urn", m.TopicURN}, {"type", m.Type},
	} {
		if kv[0] == "subject" && kv[1] == "" {
			continue
		}
		b.WriteString(kv[0] + "\n" + kv[1] + "\n")
	}
	return b.String()
}

// TopicURN is the topic_urn of a rule's deliveries, shaped like SMN's
// urn:smn:<region>:<project>:<topic>: "urn:smn:auditbus:<bus>:<rule>".
func TopicURN(bus, rule string) string { return "urn:smn:auditbus:" + bus + ":" + rule }

// SubscriptionURN identifies one target of a rule, as SMN appends a
// subscription id to the topic URN: "<topic urn>:<target>".
func SubscriptionURN(bus, rule, target string) string { return TopicURN(bus, rule) + ":" + target }

// smnSubject is the event's type, and its subject when it has one: a
// one-line summary for receivers that show only the subject.
func smnSubject(d *Delivery) string {
	if s := d.Event.Subject(); s != "" {
		return d.Event.Type() + " " + s
	}
	return d.Event.Type()
}

// smnMessage builds and signs the message of one delivery.
func (w *Webhook) smnMessage(d *Delivery, now time.Time) (*SMNMessage, error) {
	if w.signer == nil || w.publicURL == "" {
		return nil, Permanent(errNoSigner)
	}
	content, err := smnContent(d)
	if err != nil {
		return nil, err
	}
	m := &SMNMessage{
		Type:           SMNTypeNotification,
		MessageID:      messageID(d),
		TopicURN:       jsonSafe(cmp.Or(d.TopicURN, TopicURN(d.Bus, d.Rule))),
		Subject:        jsonSafe(cmp.Or(d.Subject, smnSubject(d))),
		Message:        jsonSafe(content),
		Timestamp:      now.UTC().Format(SMNTimestampLayout),
		UnsubscribeURL: d.UnsubscribeURL,
	}
	return m, w.signSMN(m)
}

// signSMN fills in m's signature fields.
func (w *Webhook) signSMN(m *SMNMessage) error {
	m.SignatureVersion = SMNSignatureVersion
	m.SigningCertURL = w.publicURL + SigningCertPath
	sig, err := w.signer.Sign([]byte(m.StringToSign()))
	if err != nil {
		return Permanent(fmt.Errorf("smn format: %w", err))
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}

// smnContent is the message string: the input payload, or the event as
// structured JSON.
func smnContent(d *Delivery) (string, error) {
	if d.Payload != nil {
		b, _, err := body(d)
		return string(b), err
	}
	b, err := structuredOf(d)
	return string(b), err
}

// encodeSMN writes an smn message as req's body, with SMN's headers.
func (w *Webhook) encodeSMN(req *http.Request, d *Delivery, now time.Time) ([]byte, error) {
	m, err := w.smnMessage(d, now)
	if err != nil {
		return nil, err
	}
	sub := SubscriptionURN(d.Bus, d.Rule, d.Target)
	if d.TopicURN != "" {
		sub = d.TopicURN + ":" + d.Target
	}
	return setSMNBody(req, m, sub)
}

// setSMNBody writes m as req's body, with SMN's headers.
func setSMNBody(req *http.Request, m *SMNMessage, subscriptionURN string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep <, > and & readable; receivers decode the same values either way
	if err := enc.Encode(m); err != nil {
		return nil, Permanent(fmt.Errorf("smn format: %w", err))
	}
	body := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	setBody(req, body, "application/json; charset=utf-8")
	req.Header.Set(HeaderSMNMessageType, m.Type)
	req.Header.Set(HeaderSMNMessageID, m.MessageID)
	req.Header.Set(HeaderSMNTopicURN, m.TopicURN)
	req.Header.Set(HeaderSMNSubscriptionURN, subscriptionURN)
	return body, nil
}

// jsonSafe returns s as a JSON decoder will see it after encoding/json has
// encoded it: each byte that is not valid UTF-8 becomes U+FFFD. The string
// is signed in this form, since receivers rebuild it from decoded JSON.
func jsonSafe(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // ranging yields U+FFFD once per invalid byte, as encoding/json writes it
		b.WriteRune(r)
	}
	return b.String()
}
