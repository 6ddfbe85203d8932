package api

import (
	"context"
	"errors"

	"github.com/auditbus/auditbus/rules"
)

// RuleStore is what the rules endpoints read and write: the running rule
// set, whatever its sources, and the rules managed through the API.
// *ruleset.Manager is the real one.
type RuleStore interface {
	// List returns every running rule, from files and from the API, sorted
	// by bus, then name.
	List() []StoredRule
	// Get returns rule name of bus: the running rule, or an API rule that
	// is stored but does not run (its document is broken). ok is false
	// when there is neither.
	Get(bus, name string) (rule StoredRule, ok bool)
	// Validate parses doc as an API rule document exactly as Put does,
	// without storing it. An empty bus or name puts no constraint on the
	// document. Problems are rules.Errors, positioned in doc.
	Validate(bus, name string, doc []byte) (*rules.Rule, error)
	// Put validates doc and stores it as API rule name of bus. ifMatch,
	// when not nil, is the revision the caller last saw (Precondition).
	// created is true when the rule did not exist. Errors: rules.Errors
	// (invalid document), ErrRuleConflict, ErrPreconditionFailed,
	// ErrRuleStoreUnavailable.
	Put(ctx context.Context, bus, name string, doc []byte, ifMatch *Precondition) (rule StoredRule, created bool, err error)
	// Delete removes API rule name of bus. Errors: ErrRuleNotFound,
	// ErrRuleConflict (a rule file defines it), ErrPreconditionFailed,
	// ErrRuleStoreUnavailable.
	Delete(ctx context.Context, bus, name string, ifMatch *Precondition) error
	// Status is the running set's size and the problems of every broken
	// rule source, for /readyz.
	Status() RulesStatus
}

// Precondition is an If-Match header: a revision, or Any ("*": the rule
// must exist, whatever its revision).
type Precondition struct {
	Revision uint64
	Any      bool
}

// StoredRule is one rule as the API shows it.
type StoredRule struct {
	Bus, Name string
	// Rule is the running version; nil when the rule is stored but does
	// not run (its document never passed validation).
	Rule   *rules.Rule
	Origin Origin
	// Document and Revision are the latest stored document and its KV
	// revision (the ETag), for API rules only.
	Document []byte
	Revision uint64
	// Errors are the problems of the rule's source ("file:line:col: ..."):
	// while they last, the source's last good version keeps running.
	Errors []string
}

// Origin says where a running rule comes from.
type Origin struct {
	Kind     string `json:"kind"` // OriginFile or OriginAPI
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Revision uint64 `json:"revision,omitempty"` // KV revision of the running version
	// NotificationID is set for kind notification: the rule of a CTS
	// key-operation notification.
	NotificationID string `json:"notification_id,omitempty"`
}

// Origin kinds.
const (
	OriginFile = "file"
	OriginAPI  = "api"
)

// RulesStatus is the rule part of /readyz.
type RulesStatus struct {
	Loaded int      `json:"loaded"`
	Errors []string `json:"errors,omitempty"`
	// PendingRemovals are rule files that lost rules (or are gone) whose
	// rules keep running until the settle time has passed, one line each.
	PendingRemovals []string `json:"pending_removals,omitempty"`
}

// Errors a RuleStore returns; the endpoints map them to status codes.
var (
	ErrRuleNotFound         = errors.New("rule not found")
	ErrRuleConflict         = errors.New("rule is defined by a rule file")
	ErrPreconditionFailed   = errors.New("revision does not match If-Match")
	ErrRuleStoreUnavailable = errors.New("rule store unavailable")
)

// WithRuleStore serves the rules endpoints (/v1/rules, /v1/rules/{name},
// /v1/rules:test) from store and adds the rule status to /readyz.
// Default: no rules endpoints.
func WithRuleStore(store RuleStore) Option { return func(o *options) { o.rules = store } }
