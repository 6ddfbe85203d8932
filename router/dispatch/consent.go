package dispatch

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sync"
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

// consent is a binding's sink that asks for consent, with what identifies
// a round: its mode and the digest a subscription keeps of the URL (enough
// to notice a new URL, without storing one that may hold secrets). Built
// once with the table, since the pause check and every delivery read it.
type consent struct {
	consenter
	mode, sum string
}

// newConsent returns s as a consent when it asks for one, else nil.
func newConsent(s sinks.Sink) *consent {
	c, ok := s.(consenter)
	if !ok || c.ConsentMode() == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(c.Endpoint()))
	return &consent{consenter: c, mode: c.ConsentMode(), sum: hex.EncodeToString(sum[:])}
}

// sameRound reports whether rec's subscription is for c's mode and URL.
func sameRound(rec *record, c *consent) bool {
	return rec.Subscription != nil && rec.Subscription.Mode == c.mode && rec.EndpointSum == c.sum
}

// consented reports whether rec holds consent to c's current mode and URL.
func consented(rec *record, c *consent) bool {
	return sameRound(rec, c) && rec.Subscription.Status == SubscriptionConfirmed
}

// consentDue reports whether a consent request should be sent now: no
// round yet, or a pending round's next request is due. A round for
// another URL or mode is replaced once its next request is due or its
// last one is a lease old, so that two replicas whose rules disagree for
// a while (a rolling change) take turns at most once a lease instead of
// replacing each other's round on every poll. An unsubscribed endpoint
// is not asked again until an operator enables the target.
func consentDue(rec *record, c *consent, now time.Time) bool {
	s := rec.Subscription
	switch {
	case s == nil:
		return true
	case !sameRound(rec, c):
		return !now.Before(s.NextRequest) || !now.Before(s.LastRequest.Add(consentLease))
	}
	return s.Status == SubscriptionPending && !now.Before(s.NextRequest)
}

// holds reports, from the cached state, whether b's deliveries are held:
// the pair left the rules (b nil), the target is disabled, or it awaits
// its endpoint's consent. It applies a consented rate cap to b's lane on
// the way.
func (r *Router) holds(key targetKey, b *binding) bool {
	if b == nil {
		return true
	}
	rec, _ := r.stateOf(key)
	switch c := b.consent; {
	case rec.Disabled:
		return true
	case c == nil:
		b.lane.capRate(0)
	case !consented(&rec, c):
		return true
	default:
		b.lane.capRate(rec.Subscription.RatePerMinute)
	}
	return false
}

// steward runs until ctx ends: every stewardPoll it asks for consent for
// each target that awaits it and is due, one request per target at a
// time, each in its own goroutine so one slow endpoint delays no other.
func (r *Router) steward(ctx context.Context) {
	var seeking sync.WaitGroup
	defer seeking.Wait()
	tick := time.NewTicker(stewardPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		for _, b := range r.table.Load().consent {
			l, c := b.lane, b.consent
			if rec, _ := r.stateOf(l.key); rec.Disabled || !consentDue(&rec, c, now) || !l.seeking.CompareAndSwap(false, true) {
				continue
			}
			seeking.Go(func() {
				defer l.seeking.Store(false)
				r.seekConsent(ctx, l.key, b, c)
			})
		}
	}
}

// seekConsent claims the next consent request of key in the state bucket,
// so that one replica sends it, sends it, and records the answer unless
// the state moved on meanwhile (the endpoint GET its URL while the
// request was in flight, or an operator enabled the target).
func (r *Router) seekConsent(ctx context.Context, key targetKey, b *binding, c *consent) {
	log := r.opts.log.With().Str("rule", key.rule).Str("target", key.target).Str("mode", c.mode).Logger()
	now := time.Now()
	rec, claimed, err := r.updateState(ctx, key, func(rec *record) bool {
		if !consentDue(rec, c, now) {
			return false // another replica claimed it, or the endpoint consented
		}
		if !sameRound(rec, c) {
			rec.Token, rec.EndpointSum = newToken(), c.sum
			rec.Subscription = &Subscription{Status: SubscriptionPending, Mode: c.mode, Endpoint: sinks.RedactURL(c.Endpoint())}
		}
		s := rec.Subscription
		s.Requests++
		s.LastRequest, s.NextRequest = now, now.Add(consentLease)
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
		// The claim set NextRequest; zero means an operator's enable asked
		// for another request meanwhile, which must not be pushed back.
		askAgain := s.NextRequest.IsZero()
		switch {
		case consent.Granted:
			s.Status, s.ConfirmedAt, s.RatePerMinute, s.LastError, s.NextRequest = SubscriptionConfirmed, now.UTC(), consent.PerMinute, "", time.Time{}
		case reqErr != nil:
			s.LastError = reqErr.Error()
			s.NextRequest = now.Add(retryDelay(uint64(s.Requests), r.opts.backoffBase, r.opts.backoffCap, sinks.RetryAfter(reqErr)))
		default:
			s.LastError, s.NextRequest = consent.Detail, now.Add(consentResend)
		}
		if askAgain && !consent.Granted {
			s.NextRequest = time.Time{}
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
