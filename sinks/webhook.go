package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"gopkg.in/yaml.v3"
)

func init() { Register("webhook", newWebhook) }

var _ Sink = (*Webhook)(nil)

// Webhook formats.
const (
	FormatCloudEvents           = "cloudevents"            // HTTP binary mode
	FormatCloudEventsStructured = "cloudevents-structured" // application/cloudevents+json
	FormatRaw                   = "raw"                    // data only, or the input payload
)

// DefaultWebhookTimeout bounds one delivery attempt.
const DefaultWebhookTimeout = 10 * time.Second

// WebhookConfig is a webhook target's YAML config.
type WebhookConfig struct {
	URL     string            `yaml:"url"`
	Format  string            `yaml:"format"`  // default cloudevents
	Timeout time.Duration     `yaml:"timeout"` // default 10s
	Headers map[string]string `yaml:"headers"` // added to every request
}

// Webhook POSTs events to an HTTP endpoint. Redirects are never followed:
// a 3xx is a failed delivery, since following it would send audit data
// somewhere the rule author did not name.
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
}

func newWebhook(node *yaml.Node, _ Deps) (Sink, error) {
	var cfg WebhookConfig
	if err := decodeConfig(node, &cfg, "url", "format", "timeout", "headers", "secret"); err != nil {
		return nil, err
	}
	if hasKey(node, "secret") {
		return nil, errors.New("secret: webhook signing is not supported yet; remove the secret or wait for signed delivery")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want an absolute http or https URL", cfg.URL)
	}
	switch cfg.Format {
	case "":
		cfg.Format = FormatCloudEvents
	case FormatCloudEvents, FormatCloudEventsStructured, FormatRaw:
	case "smn":
		return nil, errors.New(`format "smn" is not supported yet (use cloudevents, cloudevents-structured or raw)`)
	default:
		return nil, fmt.Errorf("format %q: want cloudevents, cloudevents-structured or raw", cfg.Format)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("timeout %s: must be positive", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	return &Webhook{cfg: cfg, client: &http.Client{
		Timeout:       cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func hasKey(node *yaml.Node, key string) bool {
	for i := 0; node != nil && i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return true
		}
	}
	return false
}

// Connect does nothing: an endpoint is only known to work when it accepts a
// delivery.
func (w *Webhook) Connect(context.Context) error { return nil }

// Close releases idle connections.
func (w *Webhook) Close() error {
	w.client.CloseIdleConnections()
	return nil
}

// Deliver POSTs one event. 2xx is success; 400, 401, 403, 404, 410, 413, 3xx
// and an unencodable payload are permanent failures; everything else
// (network errors, 408, 429, 5xx) is retryable, with Retry-After honoured.
func (w *Webhook) Deliver(ctx context.Context, d *Delivery) error {
	req, err := w.request(ctx, d)
	if err != nil {
		return err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", w.cfg.URL, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &Error{
		Status:     resp.StatusCode,
		Retryable:  retryableStatus(resp.StatusCode),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After")),
		Err:        fmt.Errorf("POST %s: %s %q", w.cfg.URL, http.StatusText(resp.StatusCode), snippet),
	}
}

func (w *Webhook) request(ctx context.Context, d *Delivery) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, nil)
	if err != nil {
		return nil, Permanent(err)
	}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	e, err := outgoing(d)
	if err != nil {
		return nil, err
	}
	switch w.cfg.Format {
	case FormatRaw:
		b, ct, err := body(d)
		if err != nil {
			return nil, err
		}
		setBody(req, b, ct)
	case FormatCloudEventsStructured:
		b, err := structured(e)
		if err != nil {
			return nil, err
		}
		setBody(req, b, "application/cloudevents+json")
	default:
		if err := cehttp.WriteRequest(ctx, binding.ToMessage(e), req); err != nil {
			return nil, Permanent(fmt.Errorf("encode binary-mode request: %w", err))
		}
	}
	return req, nil
}

func setBody(req *http.Request, b []byte, contentType string) {
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
}

func retryableStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return true
	case code >= 500:
		return true
	default:
		return false
	}
}

// retryAfter reads Retry-After in seconds or as an HTTP date; 0 if absent
// or unreadable.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
