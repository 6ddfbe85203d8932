package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"time"

	"github.com/auditbus/auditbus/sinks"
)

// consenter is a sink whose endpoint may have to consent before the first
// delivery (sinks.Webhook with confirm or handshake).
type consenter interface {
	// ConsentMode is sinks.ConsentConfirm, sinks.ConsentHandshake or "".
	ConsentMode() string
	// Endpoint is the URL the consent is for.
	Endpoint() string
	RequestConsent(ctx context.Context, s *sinks.Subscription) (sinks.Consent, error)
}

// How consent requests are paced. A request that failed is retried with
// the delivery backoff; one that arrived but got no consent is repeated
// after consentResend, unless the endpoint GETs its URL meanwhile (or an
// operator enables the target, which asks again at once).
const (
	// consentLease is how long a replica that claimed a consent request
	// has to send it before another replica may.
	consentLease  = time.Minute
	consentResend = time.Hour
)

// consentOf returns b's sink when it asks for consent, else nil.
func consentOf(b *binding) consenter {
	if b == nil {
		return nil
	}
	if c, ok := b.sink.(consenter); ok && c.ConsentMode() != "" {
		return c
	}
	return nil
}

// consented reports whether s is consent to c's current mode and URL.
func consented(s *Subscription, c consenter) bool {
	return s != nil && s.Status == SubscriptionConfirmed && s.Mode == c.ConsentMode() && s.Endpoint == c.Endpoint()
}

// consentDue reports whether a consent request should be sent now: no
// round yet, the URL or mode changed, or a pending round's next request
// is due. An unsubscribed endpoint is not asked again until an operator
// enables the target.
func consentDue(s *Subscription, c consenter, now time.Time) bool {
	if s == nil || s.Mode != c.ConsentMode() || s.Endpoint != c.Endpoint() {
		return true
	}
	return s.Status == SubscriptionPending && !now.Before(s.NextRequest)
}

// awaitsConsent reports, from the cached state, whether b's deliveries are
// held for consent.
func (r *Router) awaitsConsent(key targetKey, b *binding) bool {
	c := consentOf(b)
	if c == nil {
		return false
	}
	rec, _ := r.stateOf(key)
	return !consented(rec.Subscription, c)
}

// held is the pause check of q's fetch loop: a removed queue waits until
// it may drain (grace.go), then drains to the dead-letter queue whatever
// its state; a disabled target holds; a target waiting for consent holds
// and, when due, asks for it here, in the queue's own goroutine. A
// consented rate cap is applied on the way.
func (r *Router) held(ctx context.Context, q *queue) bool {
	if q.removed.Load() {
		return !q.rm.draining.Load()
	}
	if r.isDisabled(q.key) {
		return true
	}
	t := r.acquire()
	defer t.inUse.RUnlock()
	b := t.bindings[q.key]
	c := consentOf(b)
	rec, _ := r.stateOf(q.key)
	if c == nil || consented(rec.Subscription, c) {
		perMinute := 0
		if c != nil {
			perMinute = rec.Subscription.RatePerMinute
		}
		q.capRate(perMinute)
		return false
	}
	if consentDue(rec.Subscription, c, time.Now()) {
		r.seekConsent(ctx, q.key, b, c)
	}
	return true
}

// seekConsent claims the next consent request of key in the state bucket,
// so that one replica sends it, sends it, and records the answer unless
// the state moved on meanwhile (the endpoint GET its URL while the
// request was in flight, or an operator enabled the target).
func (r *Router) seekConsent(ctx context.Context, key targetKey, b *binding, c consenter) {
	log := r.opts.log.With().Str("rule", key.rule).Str("target", key.target).Str("mode", c.ConsentMode()).Logger()
	now := time.Now()
	rec, claimed, err := r.updateState(ctx, key, func(rec *record) bool {
		s := rec.Subscription
		if !consentDue(s, c, now) {
			return false // another replica claimed it, or the endpoint consented
		}
		if s == nil || s.Mode != c.ConsentMode() || s.Endpoint != c.Endpoint() {
			rec.Token = newToken()
			s = &Subscription{Status: SubscriptionPending, Mode: c.ConsentMode(), Endpoint: c.Endpoint()}
		}
		s.Requests++
		s.LastRequest, s.NextRequest = now, now.Add(consentLease)
		rec.Subscription = s
		return true
	})
	if err != nil {
		log.Warn().Err(err).Msg("claiming a consent request failed; trying again shortly")
		return
	}
	if !claimed {
		return
	}
	sub := &sinks.Subscription{Bus: key.bus, Rule: key.rule, Target: key.target,
		SubscribeURL: r.subscriptionURL(SubscriptionConfirmPath, key, rec.Token)}
	if b.target.Rate != nil {
		sub.RequestRate = int(b.target.Rate.PerSecond * 60)
	}
	consent, reqErr := c.RequestConsent(ctx, sub)
	if ctx.Err() != nil {
		return // shutdown cut the request short; another replica may send it once the lease ends
	}
	r.recordConsent(ctx, key, rec.Token, consent, reqErr)
	switch {
	case consent.Granted:
		r.metrics.consent.WithLabelValues(key.bus, key.rule, key.target, "granted").Inc()
		log.Info().Int("rate_per_minute", consent.PerMinute).Msg("the endpoint consented: deliveries resume")
	case reqErr != nil:
		r.metrics.consent.WithLabelValues(key.bus, key.rule, key.target, "failed").Inc()
		log.Warn().Err(reqErr).Int("request", rec.Subscription.Requests).Msg("consent request failed; deliveries stay queued")
	default:
		r.metrics.consent.WithLabelValues(key.bus, key.rule, key.target, "pending").Inc()
		log.Info().Str("detail", consent.Detail).Msg("consent requested; deliveries stay queued until the endpoint consents")
	}
}

// recordConsent stores the answer to the request of the round with token.
func (r *Router) recordConsent(ctx context.Context, key targetKey, token string, consent sinks.Consent, reqErr error) {
	now := time.Now()
	_, _, err := r.updateState(ctx, key, func(rec *record) bool {
		s := rec.Subscription
		if s == nil || rec.Token != token || s.Status != SubscriptionPending {
			return false
		}
		switch {
		case consent.Granted:
			s.Status, s.ConfirmedAt, s.RatePerMinute, s.LastError, s.NextRequest = SubscriptionConfirmed, now.UTC(), consent.PerMinute, "", time.Time{}
		case reqErr != nil:
			s.LastError = reqErr.Error()
			s.NextRequest = now.Add(retryDelay(uint64(s.Requests), r.opts.backoffBase, r.opts.backoffCap, sinks.RetryAfter(reqErr)))
		default:
			s.LastError, s.NextRequest = consent.Detail, now.Add(consentResend)
		}
		return true
	})
	if err != nil {
		r.opts.log.Warn().Err(err).Str("rule", key.rule).Str("target", key.target).
			Msg("recording a consent answer failed; the request is repeated after its lease")
	}
}

// newToken is the secret of one subscription round: 256 random bits.
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// subscriptionURL is the router's URL at path for key's subscription.
func (r *Router) subscriptionURL(path string, key targetKey, token string) string {
	q := url.Values{"subscription_urn": {sinks.SubscriptionURN(key.bus, key.rule, key.target)}, "token": {token}}
	return r.deps.PublicURL + path + "?" + q.Encode()
}
