package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/auditbus/auditbus/router/dispatch"
)

// answerSubscription serves a subscription URL, GET
// /v1/subscriptions/{confirm,unsubscribe}?subscription_urn=&token=: the
// subscribe_url and unsubscribe_url of smn messages and the handshake's
// callback URL. The token is the credential, since the endpoint that
// GETs them holds no API token: these URLs are capabilities, as SMN's
// are. 200 with the subscription's state; AB.4044 for an unknown
// subscription or a wrong token alike.
func (s *Server) answerSubscription(answer func(ctx context.Context, urn, token string) (dispatch.TargetState, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		urn, token := r.URL.Query().Get("subscription_urn"), r.URL.Query().Get("token")
		if urn == "" || token == "" {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, "subscription_urn and token are required (use the URL exactly as the message carried it)")
			return
		}
		st, err := answer(r.Context(), urn, token)
		switch {
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
