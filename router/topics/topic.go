package topics

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/auditbus/auditbus/sinks"
)

// Defaults of a topic's URN parts when the API request leaves them out.
const (
	DefaultRegion  = "auditbus"
	DefaultProject = "default"
)

// Subscription protocols.
const (
	ProtocolHTTP     = "http"
	ProtocolHTTPS    = "https"
	ProtocolFunction = "function"
)

// Origins of a topic.
const (
	OriginFile = "file"
	OriginAPI  = "api"
)

// Topic is one SMN-style topic.
type Topic struct {
	Name          string         `json:"name"`
	Region        string         `json:"region"`
	Project       string         `json:"project"`
	URN           string         `json:"urn"`
	Subscriptions []Subscription `json:"subscriptions"`
	Origin        string         `json:"origin,omitempty"`
	Revision      uint64         `json:"revision,omitempty"`
}

// Subscription is one receiver of a topic's messages.
type Subscription struct {
	ID       string `json:"id"`
	Protocol string `json:"protocol"`
	// Endpoint is the URL (http, https) or the function URN (function).
	Endpoint string `json:"endpoint"`
	// Secret, when set, adds Standard Webhooks signature headers.
	Secret string `json:"secret,omitempty"`
	// Confirm: the endpoint must confirm the subscription (the smn
	// SubscriptionConfirmation handshake) before messages flow. Default
	// true, as SMN; nil means the default.
	Confirm *bool `json:"confirm,omitempty"`
}

// Errors the registry returns; the API maps them to status codes.
var (
	ErrInvalid     = errors.New("invalid topic")
	ErrNotFound    = errors.New("no such topic")
	ErrReadOnly    = errors.New("topic is declared in the topics file")
	ErrUnavailable = errors.New("topics bucket unavailable")
)

var (
	nameRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,255}$`)
	partRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	subIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// TopicURN is the URN of topic name in region and project.
func TopicURN(region, project, name string) string {
	return "urn:smn:" + region + ":" + project + ":" + name
}

// IsTopicURN and IsFunctionURN tell the two kinds of URN apart by prefix.
func IsTopicURN(urn string) bool    { return strings.HasPrefix(urn, "urn:smn:") }
func IsFunctionURN(urn string) bool { return strings.HasPrefix(urn, "urn:fss:") }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// normalize checks t, fills its defaults and URN. isFunction tells
// whether a URN names a known function (function subscriptions).
func (t *Topic) normalize(isFunction func(string) bool) error {
	if !nameRe.MatchString(t.Name) {
		return invalid("topic name %q: want 1-256 letters, digits, _ or -, starting with a letter or digit", t.Name)
	}
	if t.Region == "" {
		t.Region = DefaultRegion
	}
	if t.Project == "" {
		t.Project = DefaultProject
	}
	for _, p := range [][2]string{{"region", t.Region}, {"project", t.Project}} {
		if !partRe.MatchString(p[1]) {
			return invalid("topic %s %q: want 1-64 letters, digits, _, . or -", p[0], p[1])
		}
	}
	t.URN = TopicURN(t.Region, t.Project, t.Name)
	if t.Subscriptions == nil {
		t.Subscriptions = []Subscription{}
	}
	seen := map[string]bool{}
	for i := range t.Subscriptions {
		s := &t.Subscriptions[i]
		if err := s.check(isFunction); err != nil {
			return fmt.Errorf("topic %s subscription %d: %w", t.Name, i, err)
		}
		if seen[s.ID] {
			return invalid("topic %s: subscription id %q given twice", t.Name, s.ID)
		}
		seen[s.ID] = true
	}
	return nil
}

func (s *Subscription) check(isFunction func(string) bool) error {
	if !subIDRe.MatchString(s.ID) {
		return invalid("id %q: want [a-z0-9][a-z0-9-]{0,31}", s.ID)
	}
	switch s.Protocol {
	case ProtocolHTTP, ProtocolHTTPS:
		u, err := url.Parse(s.Endpoint)
		if err != nil || u.Scheme != s.Protocol || u.Host == "" {
			return invalid("endpoint %q: want an absolute %s:// URL", s.Endpoint, s.Protocol)
		}
		if masksCredentials(u) {
			return invalid("endpoint %q: a password or query value is %q, as GET shows credentials: send the endpoint with its real credentials", sinks.RedactURL(s.Endpoint), sinks.Redacted)
		}
	case ProtocolFunction:
		if s.Secret != "" || s.Confirm != nil {
			return invalid("secret and confirm apply to http and https subscriptions only")
		}
		if !isFunction(s.Endpoint) {
			return invalid("endpoint %q: no such function URN (functions are declared in the topics file)", s.Endpoint)
		}
	default:
		return invalid("protocol %q: want http, https or function", s.Protocol)
	}
	return nil
}

// masksCredentials reports whether u carries the API's mask where a
// credential goes (its password or a query value): a topic read back from
// GET and sent again, which must not overwrite the real credentials.
func masksCredentials(u *url.URL) bool {
	if p, ok := u.User.Password(); ok && p == sinks.Redacted {
		return true
	}
	for _, vs := range u.Query() {
		if slices.Contains(vs, sinks.Redacted) {
			return true
		}
	}
	return false
}

// confirm is the subscription's confirm setting with its default.
func (s *Subscription) confirm() bool { return s.Confirm == nil || *s.Confirm }
