package sinks

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces a secret in what auditbus shows.
const Redacted = "***"

// RedactURL returns s with its password and query values replaced by
// Redacted, for errors, logs, dead letters and API answers: a target URL
// often carries its credentials ("${TOKEN}" in a query, user:password).
// Something that does not parse as a URL is redacted whole.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return Redacted
	}
	if u.RawQuery != "" {
		q := u.Query()
		keys := slices.Sorted(maps.Keys(q))
		for i, k := range keys {
			keys[i] = url.QueryEscape(k) + "=" + Redacted
		}
		u.RawQuery = strings.Join(keys, "&")
	}
	if _, ok := u.User.Password(); !ok {
		return u.String()
	}
	user := u.User.Username()
	u.User = nil
	// url.UserPassword would escape the mask itself.
	scheme, rest, _ := strings.Cut(u.String(), "//")
	return scheme + "//" + url.PathEscape(user) + ":" + Redacted + "@" + rest
}

// requestError names a failed request by method and redacted URL. The
// client's *url.Error is unwrapped, since it repeats the URL with its query.
func requestError(method, shownURL string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", method, shownURL, err)
}
