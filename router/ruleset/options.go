package ruleset

import (
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/rules"
)

// Defaults for the options.
const (
	// DefaultPollInterval is how often rule files are checked for changes.
	DefaultPollInterval = 2 * time.Second
	// DefaultSettle is how long a rule file must stay without rules it ran
	// (emptied, cut short, deleted) before they stop: longer than a slow
	// rewrite in place, short enough for a removal to feel prompt.
	DefaultSettle = 30 * time.Second
	// DefaultBucket is the KV bucket that holds API-managed rules, one key
	// "<bus>.<name>" per rule, the value being the rule's YAML or JSON
	// document.
	DefaultBucket = "AUDITBUS_RULES"
	// DefaultWriteWait bounds how long Put and Delete wait for their own
	// write to come back through the watch, so that a read right after a
	// write sees it.
	DefaultWriteWait = 5 * time.Second
	// bucketHistory is how many revisions of a rule the bucket keeps.
	bucketHistory = 10
)

// Check returns the problems of one parsed rule that parsing alone cannot
// see, such as settings the router does not honour; nil when there are
// none. It is applied to file rules and API rules alike.
type Check func(r *rules.Rule) rules.Errors

type options struct {
	paths     []string
	interval  time.Duration
	settle    time.Duration
	parseOpts []rules.Option
	check     Check
	bucket    string
	replicas  int
	writeWait time.Duration
	log       zerolog.Logger
	reg       prometheus.Registerer
	now       func() time.Time // the clock of settle times; tests set it
	// readFile reads a rule file whole, to parse it; tests watch the
	// bytes it returns.
	readFile func(string) ([]byte, error)
}

func buildOptions(opts []Option) options {
	o := options{interval: DefaultPollInterval, settle: DefaultSettle, bucket: DefaultBucket, replicas: 1,
		writeWait: DefaultWriteWait, log: zerolog.Nop(), now: time.Now, readFile: os.ReadFile, check: func(*rules.Rule) rules.Errors { return nil }}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Option configures a Manager.
type Option func(*options)

// WithFiles sets the rule files and directories (non-recursive: the
// *.yaml and *.yml files directly inside, as rules.Load reads them).
// Default: none.
func WithFiles(paths ...string) Option {
	return func(o *options) { o.paths = append([]string(nil), paths...) }
}

// WithPollInterval sets how often rule files are checked for changes; 0
// means DefaultPollInterval (2s) and a negative interval turns hot reload
// off (files are read once, at start).
func WithPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d != 0 {
			o.interval = d
		}
	}
}

// WithSettle sets how long, after start, a rule file that lost rules it
// runs (an edit without them, an empty file, the file deleted) must stay
// so before those rules stop; until then its previous version keeps
// running, whole. 0 means DefaultSettle (30s); a negative value applies
// such changes as soon as two polls read the same content.
func WithSettle(d time.Duration) Option {
	return func(o *options) {
		if d != 0 {
			o.settle = d
		}
	}
}

// WithParseOptions sets the rules.Options every document is parsed with,
// such as rules.WithTargetCheck(sinks.Check). API documents are parsed
// with these plus a lookup that refuses ${NAME} references. Default: none.
func WithParseOptions(opts ...rules.Option) Option {
	return func(o *options) { o.parseOpts = append([]rules.Option(nil), opts...) }
}

// WithCheck adds a check every parsed rule must pass. Default: none.
func WithCheck(c Check) Option {
	return func(o *options) {
		if c != nil {
			o.check = c
		}
	}
}

// WithBucket names the KV bucket of API-managed rules, and its replication
// factor on a cluster. Defaults DefaultBucket and 1.
func WithBucket(name string, replicas int) Option {
	return func(o *options) {
		if name != "" {
			o.bucket = name
		}
		o.replicas = max(replicas, 1)
	}
}

// WithWriteWait bounds how long Put and Delete wait for the watch to apply
// their write before answering. Default DefaultWriteWait (5s).
func WithWriteWait(d time.Duration) Option { return func(o *options) { o.writeWait = d } }

// WithLogger sets the logger. Default: none.
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegisterer registers the metrics auditbus_rules_reloads_total,
// auditbus_rules_loaded and auditbus_rules_broken_sources. Default: not
// registered.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.reg = r } }
