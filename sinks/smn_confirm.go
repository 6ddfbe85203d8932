package sinks

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
)

// confirmSubscription POSTs an SMN SubscriptionConfirmation to the
// endpoint. A 2xx only means the message arrived: consent is the GET of
// its subscribe_url.
func (w *Webhook) confirmSubscription(ctx context.Context, s *Subscription) error {
	if w.signer == nil || w.publicURL == "" {
		return Permanent(errNoSigner)
	}
	topic := jsonSafe(cmp.Or(s.TopicURN, TopicURN(s.Bus, s.Rule)))
	m := &SMNMessage{
		Type:      SMNTypeSubscriptionConfirmation,
		MessageID: randomID(),
		TopicURN:  topic,
		Message: "You are invited to subscribe to topic " + topic + " (auditbus rule " + s.Rule + ", target " + s.Target +
			"). To confirm the subscription, visit the subscribe_url included in this message.",
		SubscribeURL: s.SubscribeURL,
		Timestamp:    w.now().UTC().Format(SMNTimestampLayout),
	}
	if err := w.signSMN(m); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, nil)
	if err != nil {
		return Permanent(err)
	}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	sub := SubscriptionURN(s.Bus, s.Rule, s.Target)
	if s.TopicURN != "" {
		sub = s.TopicURN + ":" + s.Target
	}
	b, err := setSMNBody(req, m, sub)
	if err != nil {
		return err
	}
	if w.key != nil {
		now := w.now().Unix()
		req.Header.Set(HeaderWebhookID, "msg_"+m.MessageID)
		req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(now, 10))
		req.Header.Set(HeaderWebhookSignature, signHMAC(w.key, "msg_"+m.MessageID, now, b))
	}
	return w.send(req)
}

// send makes one request and turns anything but a 2xx into an error.
func (w *Webhook) send(req *http.Request) error {
	resp, err := w.client.get().Do(req)
	if err != nil {
		return requestError(req.Method, w.shown, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, errSnippetBytes))
	// Read to its end (up to drainLimit) so that the connection goes back
	// to the pool: a body closed unread closes its connection, and the
	// next delivery would dial again.
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return httpFailure(req.Method, w.shown, resp, snippet)
}

// randomID is a message id for a message that is not a delivery: 32 hex
// digits, like the ids of deliveries.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b[:])
}
