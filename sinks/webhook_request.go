package sinks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// request builds the POST for one delivery: the target's headers, then the
// format's body and headers, then, with a secret, the Standard Webhooks
// signature headers, so that neither a header setting nor a format can
// overwrite a signature.
func (w *Webhook) request(ctx context.Context, d *Delivery) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, nil)
	if err != nil {
		return nil, Permanent(err)
	}
	// Sized for a binary-mode event's Ce- headers and the signature, so
	// that it does not grow header by header.
	req.Header = make(http.Header, len(w.cfg.Headers)+24)
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	if w.cfg.Handshake { // the handshake's origin goes on every delivery (spec section 2.1)
		req.Header.Set(HeaderRequestOrigin, w.origin)
	}
	now := w.now()
	b, err := w.encode(req, d, now)
	if err != nil {
		return nil, err
	}
	if w.key != nil {
		id := webhookID(d)
		req.Header.Set(HeaderWebhookID, id)
		req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(HeaderWebhookSignature, signHMAC(w.key, id, now.Unix(), b))
	}
	if err := checkHeaders(req.Header); err != nil {
		return nil, fmt.Errorf("build request for %s: %w", w.shown, err)
	}
	return req, nil
}

// encode sets req's body and format headers and returns the body.
func (w *Webhook) encode(req *http.Request, d *Delivery, now time.Time) ([]byte, error) {
	switch w.cfg.Format {
	case FormatRaw:
		return encodeRaw(req, d)
	case FormatCloudEventsStructured:
		return encodeStructured(req, d)
	case FormatSMN:
		return w.encodeSMN(req, d, now)
	default:
		return encodeBinary(req, d)
	}
}

// encodeRaw sends the event's data, or the input payload, alone.
func encodeRaw(req *http.Request, d *Delivery) ([]byte, error) {
	b, ct, err := body(d)
	if err != nil {
		return nil, err
	}
	setBody(req, b, ct)
	return b, nil
}

// encodeStructured sends the event as application/cloudevents+json: as
// stored, when the bus's bytes are at hand and there is no input payload.
func encodeStructured(req *http.Request, d *Delivery) ([]byte, error) {
	b, err := structuredOf(d)
	if err != nil {
		return nil, err
	}
	setBody(req, b, "application/cloudevents+json")
	return b, nil
}

func setBody(req *http.Request, b []byte, contentType string) {
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
}
