package api

import (
	"errors"
	"net/http"

	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/sinks"
)

// subscriptionAnswer applies an endpoint's answer to the subscription
// urn names, if token is its token.
type subscriptionAnswer func(r *http.Request, urn, token string) (dispatch.TargetState, error)

// badAllowedRate is a callback whose WebHook-Allowed-Rate is unreadable.
type badAllowedRate struct{ error }

func (s *Server) confirmSubscription(r *http.Request, urn, token string) (dispatch.TargetState, error) {
	perMinute, err := sinks.AllowedRate(r.Header.Get(sinks.HeaderAllowedRate))
	if err != nil {
		return dispatch.TargetState{}, badAllowedRate{err}
	}
	return s.opts.targets.ConfirmSubscription(r.Context(), urn, token, perMinute)
}

func (s *Server) unsubscribe(r *http.Request, urn, token string) (dispatch.TargetState, error) {
	return s.opts.targets.Unsubscribe(r.Context(), urn, token)
}

// answerSubscription serves a subscription URL,
// /v1/subscriptions/{confirm,unsubscribe}?subscription_urn=&token=: the
// subscribe_url and unsubscribe_url of smn messages and the handshake's
// callback URL (GET or POST; a callback may carry WebHook-Allowed-Rate).
// The token is the credential, since the endpoint that calls them holds
// no API token: these URLs are capabilities, as SMN's are. 200 with the
// subscription's status; AB.4044 for an unknown subscription or a wrong
// token alike.
func (s *Server) answerSubscription(answer subscriptionAnswer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		urn, token := r.URL.Query().Get("subscription_urn"), r.URL.Query().Get("token")
		if urn == "" || token == "" {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, "subscription_urn and token are required (use the URL exactly as the message carried it)")
			return
		}
		st, err := answer(r, urn, token)
		var badRate badAllowedRate
		switch {
		case errors.As(err, &badRate):
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		case errors.Is(err, dispatch.ErrNoSubscription):
			writeError(w, http.StatusNotFound, CodeNoSubscription, "no subscription "+urn+" with that token: the target may be gone, the URL outdated (a new subscription was asked for), or altered")
		case err != nil:
			s.opts.log.Error().Err(err).Str("subscription_urn", urn).Msg("answering a subscription")
			writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the target-state bucket (NATS KV) did not answer; retrying is safe")
		default:
			writeJSON(w, http.StatusOK, map[string]any{"subscription_urn": urn, "status": st.Subscription.Status})
		}
	}
}
