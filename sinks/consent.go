package sinks

import (
	"context"
	"fmt"
	"strings"
)

// Consent modes: how a webhook target asks its endpoint's consent before
// the first delivery, so that auditbus cannot be pointed at somebody
// else's URL and made to flood it.
const (
	// ConsentConfirm (`confirm: true`, smn format) POSTs an SMN
	// SubscriptionConfirmation carrying a subscribe_url; the endpoint
	// consents by GETting it.
	ConsentConfirm = "confirm"
	// ConsentHandshake (`handshake: true`, cloudevents formats) runs the
	// CloudEvents webhook abuse-protection handshake: an OPTIONS request
	// answered with WebHook-Allowed-Origin, or a later GET of the
	// WebHook-Request-Callback URL.
	ConsentHandshake = "handshake"
)

// Subscription is what a consent request tells the endpoint.
type Subscription struct {
	Bus, Rule, Target string
	// SubscribeURL is the capability URL the endpoint GETs to consent:
	// SMN's subscribe_url, the handshake's WebHook-Request-Callback.
	SubscribeURL string
	// TopicURN, when set, is the topic_urn of an smn confirmation (a
	// topic subscription's, see router/topics); else the rule's.
	TopicURN string
	// RequestRate is the rate the target wants, in requests per minute,
	// sent as WebHook-Request-Rate; 0 sends none.
	RequestRate int
}

// Consent is the endpoint's answer to a consent request.
type Consent struct {
	// Granted: the endpoint consented in its answer. False is no error:
	// it may still consent later by GETting the subscribe URL.
	Granted bool
	// PerMinute caps the delivery rate (WebHook-Allowed-Rate); 0 is no cap.
	PerMinute int
	// Detail says why an answer that was no error is not consent.
	Detail string
}

// ConsentMode returns how the target asks for consent before delivering,
// "" when it does not.
func (w *Webhook) ConsentMode() string {
	switch {
	case w.cfg.Confirm:
		return ConsentConfirm
	case w.cfg.Handshake:
		return ConsentHandshake
	}
	return ""
}

// Endpoint is the URL deliveries go to, which a consent is for: a consent
// given by one URL does not carry over to another.
func (w *Webhook) Endpoint() string { return w.cfg.URL }

// RequestConsent asks the endpoint for its consent once, by the target's
// consent mode. It returns an error when the request failed (network,
// non-2xx, a redirect, which is never followed); the caller retries later.
func (w *Webhook) RequestConsent(ctx context.Context, s *Subscription) (Consent, error) {
	switch w.ConsentMode() {
	case ConsentConfirm:
		return Consent{Detail: "waiting for the endpoint to GET subscribe_url"}, w.confirmSubscription(ctx, s)
	case ConsentHandshake:
		return w.handshake(ctx, s)
	}
	return Consent{Granted: true}, nil
}

// checkConsentConfig refuses a consent mode that does not fit the format:
// a SubscriptionConfirmation is an SMN message, and the handshake belongs
// to the CloudEvents webhook spec.
func checkConsentConfig(cfg *WebhookConfig) error {
	switch {
	case cfg.Confirm && cfg.Handshake:
		return fmt.Errorf("confirm and handshake: choose one (confirm for format smn, handshake for the cloudevents formats)")
	case cfg.Confirm && cfg.Format != FormatSMN:
		return fmt.Errorf("confirm: true needs format smn (the confirmation is an SMN SubscriptionConfirmation); format %q could use handshake: true if it is a cloudevents format", cfg.Format)
	case cfg.Handshake && !strings.HasPrefix(cfg.Format, FormatCloudEvents):
		return fmt.Errorf("handshake: true needs format cloudevents or cloudevents-structured (it is the CloudEvents webhook handshake); format %q could use confirm: true if it is smn", cfg.Format)
	}
	return nil
}
