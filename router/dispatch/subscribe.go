package dispatch

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"
)

// Where the router serves the URLs of subscriptions: subscribe_url (and
// the handshake's WebHook-Request-Callback) and unsubscribe_url. Both take
// the query parameters subscription_urn and token.
const (
	SubscriptionConfirmPath     = "/v1/subscriptions/confirm"
	SubscriptionUnsubscribePath = "/v1/subscriptions/unsubscribe"
)

// ErrNoSubscription is returned by ConfirmSubscription and Unsubscribe
// for a URN that names no subscription of the rules, a token that is not
// the subscription's, or a round that has ended (confirming after an
// unsubscribe). The three are not told apart, so a wrong token reveals
// nothing.
var ErrNoSubscription = errors.New("no such subscription, or not its token")

// ConfirmSubscription is the endpoint's consent, given by GETting its
// subscribe_url (or the handshake's callback URL): the target's held
// deliveries start, at most perMinute a minute when that is above 0 (the
// callback's WebHook-Allowed-Rate). Confirming twice is no error; the
// second may change the rate. It returns the target's new state.
func (r *Router) ConfirmSubscription(ctx context.Context, urn, token string, perMinute int) (TargetState, error) {
	return r.answerSubscription(ctx, urn, token, func(s *Subscription) bool {
		if s.Status == SubscriptionConfirmed && s.RatePerMinute == perMinute {
			return false
		}
		if s.Status == SubscriptionPending {
			s.ConfirmedAt = time.Now().UTC()
		}
		s.Status, s.RatePerMinute, s.LastError, s.NextRequest = SubscriptionConfirmed, perMinute, "", time.Time{}
		return true
	}, SubscriptionPending, SubscriptionConfirmed)
}

// Unsubscribe is the endpoint's withdrawal, by GETting its
// unsubscribe_url: nothing more is delivered, and what matches from now
// on is held in the target's queue (not lost) until an operator enables
// the target, which asks for a new subscription. Unsubscribing twice is
// no error.
func (r *Router) Unsubscribe(ctx context.Context, urn, token string) (TargetState, error) {
	return r.answerSubscription(ctx, urn, token, func(s *Subscription) bool {
		if s.Status == SubscriptionUnsubscribed {
			return false
		}
		s.Status, s.UnsubscribedAt = SubscriptionUnsubscribed, time.Now().UTC()
		return true
	}, SubscriptionConfirmed, SubscriptionPending, SubscriptionUnsubscribed)
}

// answerSubscription applies change to the subscription urn names, if
// token is its token and its status is one of from.
func (r *Router) answerSubscription(ctx context.Context, urn, token string, change func(*Subscription) bool, from ...string) (TargetState, error) {
	key, ok := keyOfURN(urn)
	if b := r.table.Load().bindings[key]; !ok || b == nil || b.consent == nil {
		return TargetState{}, ErrNoSubscription
	}
	var refused bool
	rec, changed, err := r.updateState(ctx, key, func(rec *record) bool {
		s := rec.Subscription
		refused = s == nil || rec.Token == "" || subtle.ConstantTimeCompare([]byte(rec.Token), []byte(token)) != 1 || !slices.Contains(from, s.Status)
		return !refused && change(s)
	})
	switch {
	case err != nil:
		return TargetState{}, err
	case refused:
		return TargetState{}, ErrNoSubscription
	}
	if changed {
		r.opts.log.Info().Str("rule", key.rule).Str("target", key.target).Str("subscription", rec.Subscription.Status).
			Msg("the endpoint answered its subscription")
	}
	return rec.TargetState, nil
}

// keyOfURN reads urn:smn:auditbus:<bus>:<rule>:<target>.
func keyOfURN(urn string) (targetKey, bool) {
	parts := strings.Split(urn, ":")
	if len(parts) != 6 || parts[0] != "urn" || parts[1] != "smn" || parts[2] != "auditbus" {
		return targetKey{}, false
	}
	return targetKey{parts[3], parts[4], parts[5]}, true
}

// unsubscribeURL returns the unsubscribe_url of key's confirmed
// subscription, "" when it has none.
func (r *Router) unsubscribeURL(key targetKey) string {
	rec, _ := r.stateOf(key)
	if rec.Subscription == nil || rec.Token == "" {
		return ""
	}
	return r.subscriptionURL(SubscriptionUnsubscribePath, key, rec.Token)
}
