package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/archive"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/ruleset"
	"github.com/auditbus/auditbus/router/sources"
	"github.com/auditbus/auditbus/rules"
)

type serveConfig struct {
	router.Config
	logFormat string
	logLevel  string
	stopLimit time.Duration
	// checkOnly: check the configuration and exit (router.CheckConfig).
	checkOnly bool
}

func defaultServeConfig() *serveConfig {
	c := &serveConfig{logFormat: "console", logLevel: "info", stopLimit: 30 * time.Second}
	c.Listen = router.DefaultListen
	c.DataDir = router.DefaultDataDir
	c.NATSListen = router.DefaultNATSListen
	c.MaxBodyBytes = api.DefaultMaxBodyBytes
	c.PublishTimeout = api.DefaultPublishTimeout
	c.RulesReloadInterval = ruleset.DefaultPollInterval
	c.RulesSettle = ruleset.DefaultSettle
	c.Stream.MaxAge = bus.DefaultMaxAge
	c.Stream.Replicas = 1
	c.Stream.DuplicateWindow = bus.DefaultDuplicateWindow
	c.Workers = dispatch.DefaultWorkers
	c.ShutdownGrace = dispatch.DefaultShutdownGrace
	c.AckWait = dispatch.DefaultAckWait
	c.MaxDeliveries = dispatch.DefaultMaxAttempts
	c.MaxDeliveryAge = dispatch.DefaultMaxAge
	c.RetryBase = dispatch.DefaultBackoffBase
	c.RetryCap = dispatch.DefaultBackoffCap
	c.Concurrency = dispatch.DefaultConcurrency
	c.DLQMaxAge = bus.DefaultDLQMaxAge
	c.IndexMaxAge = index.DefaultMaxAge
	c.RemovedTargetGrace = dispatch.DefaultRemovedTargetGrace
	c.RedactKeys = sources.DefaultRedactKeys
	c.MaxHeaderBytes = router.DefaultMaxHeaderBytes
	c.AuthFailureBurst = auth.DefaultFailureBurst
	c.AuthFailureRate = auth.DefaultFailureRate
	c.MaxConnections = router.DefaultMaxConnections
	c.MaxClientConnections = router.DefaultMaxClientConnections
	c.RedactEventBuses = []string{api.AllBuses}
	return c
}

func (c *serveConfig) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.Listen, "listen", c.Listen, "HTTP API address")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "embedded JetStream data directory")
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "use this NATS server or cluster instead of the embedded one")
	fs.StringVar(&c.NATSListen, "nats-listen", c.NATSListen, `embedded NATS client address for other tools ("-": in-process only)`)
	fs.Int64Var(&c.NATSMaxStore, "nats-max-store", c.NATSMaxStore, "most bytes the embedded JetStream stores before it refuses events with 507 (0: 75% of the data dir's free space at start)")
	fs.DurationVar(&c.NATSSyncInterval, "nats-sync-interval", c.NATSSyncInterval, "how often the embedded JetStream fsyncs its files (0: every write, before the event is answered; a longer interval is faster but a power failure loses what it wrote within it)")
	natsFlags(fs, &c.Config)
	fs.Var(&listFlag{list: &c.Rules}, "rules", "rule file or directory (repeatable, or comma-separated)")
	fs.StringVar(&c.TopicsFile, "topics", "", "topics file: SMN-style topics, function URNs and user groups of CTS notifications")
	fs.DurationVar(&c.RulesReloadInterval, "rules-reload-interval", c.RulesReloadInterval, "how often rule files are checked for changes and reloaded (negative: never)")
	fs.DurationVar(&c.RulesSettle, "rules-settle", c.RulesSettle, "how long a rule file that lost rules (emptied, cut short, deleted) must stay so before those rules stop; until then they keep running (negative: at once)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body")
	fs.DurationVar(&c.PublishTimeout, "publish-timeout", c.PublishTimeout, "how long an ingest request waits for the bus to acknowledge its events before answering 503 (keep it below clients' timeouts)")
	fs.DurationVar(&c.Stream.MaxAge, "stream-max-age", c.Stream.MaxAge, "how long the events stream keeps events")
	fs.IntVar(&c.Stream.Replicas, "stream-replicas", c.Stream.Replicas, "replicas of the events, deliveries and DLQ streams and the KV buckets on a NATS cluster (3 for a 3-node cluster); an existing stream's count is changed to it at start")
	fs.DurationVar(&c.Stream.DuplicateWindow, "dedup-window", c.Stream.DuplicateWindow, "how long a re-sent event (same source and id) is recognised as a duplicate")
	fs.IntVar(&c.Workers, "workers", c.Workers, "events matched and fanned out to the target queues at once")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", c.ShutdownGrace, "on SIGTERM, how long in-flight deliveries may finish before they are handed back to their queues")
	fs.DurationVar(&c.AckWait, "ack-wait", c.AckWait, "how long an event or a delivery being processed may go unacknowledged before it is redelivered (after a crash or restart)")
	fs.Var(redactFlag{&c.RedactKeys}, "redact-keys", `key patterns whose values are redacted from audit records and event data, replacing the default list ("@default" stands for it, "!pattern" keeps keys, "-" turns all redaction off)`)
	fs.Var(redactFlag{&c.RedactEventBuses}, "redact-events", `buses whose /v1/events JSON data is redacted like audit records ("*" every bus, "-" none)`)
	fs.IntVar(&c.MaxDeliveries, "max-deliveries", c.MaxDeliveries, "dead-letter a delivery after this many failed attempts (targets' retry.max_attempts wins)")
	fs.DurationVar(&c.MaxDeliveryAge, "max-delivery-age", c.MaxDeliveryAge, "dead-letter a failing delivery once its event was stored this long ago (targets' retry.max_age wins)")
	fs.DurationVar(&c.RetryBase, "retry-base", c.RetryBase, "first retry delay ceiling; it doubles per attempt, each delay random below it (full jitter)")
	fs.DurationVar(&c.RetryCap, "retry-cap", c.RetryCap, "largest retry delay, also the cap on a target's Retry-After")
	fs.IntVar(&c.Concurrency, "target-concurrency", c.Concurrency, "deliveries in flight at once per target that sets no concurrency")
	fs.DurationVar(&c.DLQMaxAge, "dlq-max-age", c.DLQMaxAge, "how long dead letters are kept")
	fs.StringVar(&c.IndexURL, "index-url", c.IndexURL, "PostgreSQL audit index shared by every replica (postgres://user:password@host:5432/db); default a SQLite index under --data-dir/index")
	fs.DurationVar(&c.IndexMaxAge, "index-max-age", c.IndexMaxAge, "how long the audit index keeps events, by event time (may outlive the stream)")
	fs.BoolVar(&c.IndexOff, "index-off", c.IndexOff, "run no audit index (no search or trace query endpoints)")
	fs.Var(&bucketFlag{m: &c.Buckets}, "bucket", "a bucket CTS trackers may write to, NAME=DIR (repeatable)")
	fs.StringVar(&c.ArchiveRegion, "archive-region", archive.DefaultRegion, "region in the paths and names of tracker trace files")
	fs.DurationVar(&c.ArchiveInterval, "archive-interval", archive.DefaultInterval, "how often trackers transfer new events to their buckets")
	fs.Int64Var(&c.DataTrackerQuota, "data-tracker-quota", cts.DefaultDataTrackerQuota, "data trackers a project may have")
	fs.DurationVar(&c.RemovedTargetGrace, "removed-target-grace", c.RemovedTargetGrace, "how long the queue of a target that left the rules stays paused before its deliveries are dead-lettered (0: at once); a target back within it resumes")
	fs.BoolVar(&c.AllowPrivateTargets, "allow-private-targets", c.AllowPrivateTargets, "let webhook and function URLs reach loopback, link-local (cloud metadata) and private addresses")
	fs.Var(&cidrFlag{list: &c.AllowTargetCIDRs}, "allow-target-cidrs", "internal blocks webhook and function URLs may reach (CIDR or address; repeatable, or comma-separated)")
	fs.StringVar(&c.SigningKeyFile, "signing-key", c.SigningKeyFile, "PEM RSA private key that signs smn-format webhooks, with --signing-cert (default: a pair generated in <data-dir>/signing)")
	fs.StringVar(&c.SigningCertFile, "signing-cert", c.SigningCertFile, "PEM X.509 certificate of --signing-key, served at /v1/signing-cert")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "base URL receivers reach the API at, for signing_cert_url, subscribe_url and unsubscribe_url in smn messages and the handshake's callback URL (default http://<listen address>)")
	fs.StringVar(&c.WebhookOrigin, "webhook-origin", c.WebhookOrigin, "this router's name in the CloudEvents webhook handshake (WebHook-Request-Origin) of targets with handshake: true (default: the host of --public-url)")
	fs.StringVar(&c.AuthFile, "auth-file", c.AuthFile, "YAML file of the identities that may call the API (reloaded on change); see `auditbus token create`")
	fs.BoolVar(&c.InsecureNoAuth, "insecure-no-auth", c.InsecureNoAuth, "serve a non-loopback --listen without --auth-file (only behind something else that does the access control)")
	fs.IntVar(&c.AuthFailureBurst, "auth-failure-burst", c.AuthFailureBurst, "failed authentications one address may make at once before it is answered 429")
	fs.Float64Var(&c.AuthFailureRate, "auth-failure-rate", c.AuthFailureRate, "failed authentications per second one address regains after the burst (negative: no limit)")
	fs.StringVar(&c.TLSCertFile, "tls-cert", c.TLSCertFile, "PEM certificate (chain) to serve the API over TLS, with --tls-key; reloaded on change")
	fs.StringVar(&c.TLSKeyFile, "tls-key", c.TLSKeyFile, "PEM private key of --tls-cert")
	fs.StringVar(&c.TLSClientCAFile, "tls-client-ca", c.TLSClientCAFile, "PEM CA certificates that client certificates are verified against; the auth file maps them to identities")
	fs.IntVar(&c.MaxHeaderBytes, "max-header-bytes", c.MaxHeaderBytes, "largest accepted request header block")
	fs.IntVar(&c.MaxConnections, "max-connections", c.MaxConnections, "API connections open at once; more wait in the listen backlog, and idle keep-alive connections are closed to make room")
	fs.IntVar(&c.MaxClientConnections, "max-client-connections", c.MaxClientConnections, "API connections one client address may hold open (raise it behind a proxy)")
	fs.Float64Var(&c.IngestRate, "ingest-rate", c.IngestRate, "ingest requests per second each client (identity, or address without auth) may make (0: no limit)")
	fs.IntVar(&c.IngestBurst, "ingest-burst", c.IngestBurst, "ingest requests a client may make at once before --ingest-rate applies (default 2x the rate)")
	fs.StringVar(&c.logFormat, "log-format", c.logFormat, "log format: console or json")
	fs.StringVar(&c.logLevel, "log-level", c.logLevel, "log level: debug, info, warn, error")
	fs.BoolVar(&c.checkOnly, "check-config", c.checkOnly, "load and check the whole configuration (flags, every file it names), print a summary and exit, without listening or connecting to NATS")
	return fs
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := defaultServeConfig()
	if err := parseLayered(c.flags, args, stderr); err != nil {
		return err
	}
	log, err := newLogger(c.logFormat, c.logLevel, stderr)
	if err != nil {
		return err
	}
	c.Log, c.Stdout = log, stdout
	c.NATSAuth.Password = os.Getenv(natsPasswordEnv)
	if c.RemovedTargetGrace == 0 {
		c.RemovedTargetGrace = -1 // the flag's 0 is no grace; Config's zero is the default
	}
	if c.checkOnly {
		return checkConfig(c.Config, stdout, stderr)
	}
	if len(c.Rules) == 0 {
		log.Warn().Msg("no --rules given: no rule file is loaded, so events are stored but nothing is delivered until rules are created through the API")
	}
	srv, err := router.Start(ctx, c.Config)
	if err != nil {
		if n := printRuleErrors(err, stderr); n > 0 {
			return fmt.Errorf("not started: %d problem(s) in rule files", n)
		}
		return err
	}
	<-ctx.Done()
	log.Info().Msg("signal received: stopping")
	stopCtx, cancel := context.WithTimeout(context.Background(), c.stopLimit)
	defer cancel()
	return srv.Stop(stopCtx)
}

// checkConfig is serve --check-config: the summary on stdout, or the
// first problem as the error.
func checkConfig(c router.Config, stdout, stderr io.Writer) error {
	sum, err := router.CheckConfig(c)
	if err != nil {
		if n := printRuleErrors(err, stderr); n > 0 {
			return fmt.Errorf("configuration refused: %d problem(s) in rule files", n)
		}
		return fmt.Errorf("configuration refused: %w", err)
	}
	fmt.Fprintln(stdout, "configuration OK")
	for _, line := range sum {
		fmt.Fprintln(stdout, "  "+line)
	}
	return nil
}

// printRuleErrors prints each problem of a rules.Errors on its own line
// and returns how many there were (0 for any other error).
func printRuleErrors(err error, stderr io.Writer) int {
	var rerrs rules.Errors
	if !errors.As(err, &rerrs) {
		return 0
	}
	for _, e := range rerrs {
		fmt.Fprintln(stderr, e)
	}
	return len(rerrs)
}

// Durations in every log line of the binary are strings with their unit
// ("1m0s"), not zerolog's default bare number of milliseconds
// (grace=60000), which reads as anything.
func init() {
	zerolog.DurationFieldFormat = zerolog.DurationFormatString
}

// newLogger writes structured logs to w, JSON or human-readable.
func newLogger(format, level string, w io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("log level %q: %w", level, err)
	}
	switch format {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: !isTerminal(w)}
	default:
		return zerolog.Logger{}, fmt.Errorf("log format %q: want console or json", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
