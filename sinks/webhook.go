package sinks

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

func init() { Register("webhook", newWebhook) }

var _ Sink = (*Webhook)(nil)

// Webhook formats.
const (
	FormatCloudEvents           = "cloudevents"            // HTTP binary mode
	FormatCloudEventsStructured = "cloudevents-structured" // application/cloudevents+json
	FormatRaw                   = "raw"                    // data only, or the input payload
	FormatSMN                   = "smn"                    // Huawei SMN-style signed notification JSON
)

// DefaultWebhookTimeout bounds one delivery attempt.
const DefaultWebhookTimeout = 10 * time.Second

// WebhookConfig is a webhook target's YAML config.
type WebhookConfig struct {
	URL     string            `yaml:"url"`
	Format  string            `yaml:"format"`  // default cloudevents
	Timeout time.Duration     `yaml:"timeout"` // default 10s
	Headers map[string]string `yaml:"headers"` // added to every request
	// Secret turns on Standard Webhooks signing (see ParseSecret for its
	// format); usually "${NAME}" from the environment.
	Secret string `yaml:"secret"`
	// Confirm (format smn) holds deliveries until the endpoint confirmed
	// the SubscriptionConfirmation sent before the first one.
	Confirm bool `yaml:"confirm"`
	// Handshake (cloudevents formats) holds deliveries until the endpoint
	// consented in the CloudEvents webhook OPTIONS handshake.
	Handshake bool `yaml:"handshake"`
}

// Webhook POSTs events to an HTTP endpoint. Redirects are never followed:
// a 3xx is a failed delivery, since following it would send audit data
// somewhere the rule author did not name.
//
// With a secret, every request carries the Standard Webhooks headers
// (webhook-id, webhook-timestamp, webhook-signature), whatever the format.
// The smn format is also signed with Deps.Signer, whose certificate is at
// Deps.PublicURL + SigningCertPath; without them (as in `rules validate`)
// the target still validates, but its deliveries fail for good.
//
// With confirm or handshake, the router must obtain the endpoint's consent
// (RequestConsent) before delivering; the sink itself does not track it.
type Webhook struct {
	cfg       WebhookConfig
	client    *lazyClient
	key       []byte  // HMAC key from the secret; nil: unsigned
	signer    *Signer // smn format
	publicURL string  // smn format: base of signing_cert_url
	origin    string  // handshake: WebHook-Request-Origin
	shown     string  // the URL redacted, for errors
	now       func() time.Time
}

func newWebhook(node *yaml.Node, deps Deps) (Sink, error) {
	var cfg WebhookConfig
	if err := decodeConfig(node, &cfg, "url", "format", "timeout", "headers", "secret", "confirm", "handshake"); err != nil {
		return nil, err
	}
	_, err := parseTargetURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	switch cfg.Format {
	case "":
		cfg.Format = FormatCloudEvents
	case FormatCloudEvents, FormatCloudEventsStructured, FormatRaw, FormatSMN:
	default:
		return nil, fmt.Errorf("format %q: want cloudevents, cloudevents-structured, raw or smn", cfg.Format)
	}
	if err := checkConsentConfig(&cfg); err != nil {
		return nil, err
	}
	if err := checkConfigHeaders(cfg.Headers); err != nil {
		return nil, err
	}
	var key []byte
	if hasKey(node, "secret") { // present but empty (an empty variable) is an error, not unsigned delivery
		if key, err = ParseSecret(cfg.Secret); err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("timeout %s: must be positive", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	return &Webhook{cfg: cfg, key: key, signer: deps.Signer, publicURL: deps.PublicURL, origin: deps.Origin, shown: RedactURL(cfg.URL),
		now: time.Now, client: newLazyClient(deps.Guard, cfg.Timeout)}, nil
}

func hasKey(node *yaml.Node, key string) bool {
	for i := 0; node != nil && i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return true
		}
	}
	return false
}

// Connect reports an smn target that cannot sign (no signer or public URL)
// or a handshake target without an origin, router bugs. Otherwise it does
// nothing: an endpoint is only known to work when it accepts a delivery.
func (w *Webhook) Connect(context.Context) error {
	if w.cfg.Format == FormatSMN && (w.signer == nil || w.publicURL == "") {
		return errNoSigner
	}
	if w.cfg.Handshake && w.origin == "" {
		return errNoOrigin
	}
	return nil
}

// Close releases idle connections.
func (w *Webhook) Close() error {
	w.client.closeIdle()
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
	return w.send(req)
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
