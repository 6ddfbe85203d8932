package router

import (
	"io"
	"net/netip"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus"
)

// Config is everything `auditbus serve` can be told. The zero value of a
// field means its default.
type Config struct {
	Listen       string   // HTTP API address; default 127.0.0.1:8080 ("127.0.0.1:0" for a random port)
	DataDir      string   // embedded JetStream storage; default ./data
	NATSURL      string   // connect to this NATS server instead of embedding one
	NATSListen   string   // embedded server's client address; default 127.0.0.1:4222, "-" for in-process only
	Rules        []string // rule files or directories
	Stream       bus.StreamConfig
	MaxBodyBytes int64 // default 1 MiB
	// PublishTimeout bounds an ingest request's wait for JetStream's
	// acknowledgements before it answers 503; default 10s. Keep it below
	// the clients' own timeouts (the kube-apiserver's webhook: 30s).
	PublishTimeout time.Duration
	// RedactKeys replaces the key patterns whose values the source endpoints
	// redact from audit records; nil means sources.DefaultRedactKeys, an
	// empty non-nil list redacts nothing.
	RedactKeys []string
	// RedactEventBuses are the buses whose /v1/events JSON data is redacted
	// too (names, or api.AllBuses); nil means every bus, an empty non-nil
	// list none.
	RedactEventBuses []string
	Workers          int           // events matched and fanned out to the target queues at once; default 64
	ShutdownGrace    time.Duration // in-flight deliveries may finish within it at stop; default 10s
	AckWait          time.Duration // redelivery of an event or delivery after a crash or restart; default 30s
	// A delivery that keeps failing is dead-lettered after MaxDeliveries
	// attempts or once its event was stored MaxDeliveryAge ago, unless its
	// target sets `retry`; defaults 185 and 24h.
	MaxDeliveries  int
	MaxDeliveryAge time.Duration
	// RetryBase and RetryCap shape the delay before retry n: a random time
	// in [0, min(RetryCap, RetryBase*2^(n-1))]; defaults 1s and 5m.
	RetryBase, RetryCap time.Duration
	// Concurrency is a target's deliveries in flight at once when it does
	// not set `concurrency`; default 32.
	Concurrency int
	// DLQMaxAge is how long dead letters are kept; default 14 days.
	DLQMaxAge time.Duration
	Log       zerolog.Logger
	Stdout    io.Writer // where log targets write; default os.Stdout

	// RulesReloadInterval is how often rule files are checked for changes
	// (hot reload); default 2s, negative for never.
	RulesReloadInterval time.Duration

	// RulesSettle is how long a rule file that lost rules it runs (an edit
	// without them, an empty file, the file deleted) must stay so before
	// they stop; default 30s (ruleset.DefaultSettle), negative for at once.
	RulesSettle time.Duration
	// TopicsFile declares topics, function URNs and the user-group
	// directory of CTS notifications (router/topics.File); "" is none.
	TopicsFile string

	// RemovedTargetGrace is how long the queue of a target that left the
	// rules (or that no rule of this replica has) stays paused before its
	// deliveries are dead-lettered; a target back within it resumes. A
	// queue another replica still serves is never drained. Default 1m;
	// negative: no grace.
	RemovedTargetGrace time.Duration

	// Webhook and function URLs may not lead to loopback, link-local,
	// private and other internal addresses (see sinks.Guard) unless
	// AllowPrivateTargets is set or the address is in AllowTargetCIDRs.
	AllowPrivateTargets bool
	AllowTargetCIDRs    []netip.Prefix

	// SigningKeyFile and SigningCertFile are the PEM private key (RSA) and
	// X.509 certificate that sign smn-format webhooks; both or neither.
	// Default: a pair generated on first start under DataDir/signing and
	// reused after.
	SigningKeyFile  string
	SigningCertFile string
	// PublicURL is the base URL receivers reach the API at, for the
	// signing_cert_url, subscribe_url and unsubscribe_url of smn messages
	// and the handshake's callback URL; default http://<listen address>.
	PublicURL string
	// WebhookOrigin is this router's WebHook-Request-Origin in the
	// CloudEvents webhook handshake; default the host of PublicURL.
	WebhookOrigin string

	// AuthFile lists the identities that may call the API (auth.ParseFile),
	// reloaded when it changes. Without one every request is allowed, and
	// Start refuses a Listen beyond loopback unless InsecureNoAuth is set.
	AuthFile       string
	InsecureNoAuth bool
	// AuthFailureBurst failed authentications from one address are
	// answered 401, then the address gets 429 until it regains them at
	// AuthFailureRate per second; defaults 10 and 1, a negative rate turns
	// this off.
	AuthFailureBurst int
	AuthFailureRate  float64
	// TLSCertFile and TLSKeyFile serve the API over TLS (reloaded when
	// they change); TLSClientCAFile verifies client certificates, which
	// the auth file maps to identities.
	TLSCertFile, TLSKeyFile, TLSClientCAFile string
	// MaxHeaderBytes bounds a request's headers; default 64 KiB.
	MaxHeaderBytes int
	// MaxConnections bounds the API's open connections; more wait in the
	// listen backlog, and idle keep-alive connections are closed to make
	// room. MaxClientConnections bounds those of one address. Defaults
	// 1024 and 128.
	MaxConnections, MaxClientConnections int
	// IngestRate limits each client's ingest requests per second (burst
	// IngestBurst, default 2x the rate); 0: no limit.
	IngestRate  float64
	IngestBurst int
	// NATSUsersFile lists the subscriber users of the embedded server
	// (bus.ParseUsers), reloaded on change. NATSAuth is how to sign in to
	// the NATSURL server. See deploy/README.md, "NATS access".
	NATSUsersFile string
	NATSAuth      bus.ClientAuth
	// NATSMaxStore bounds the embedded server's JetStream storage in
	// bytes (see bus.EmbeddedConfig.MaxStore); 0: nats-server's default,
	// 75% of the data dir's free space at start.
	NATSMaxStore int64
	// NATSSyncInterval is how often the embedded server fsyncs JetStream's
	// files (see bus.EmbeddedConfig.SyncInterval); 0: every write, before
	// the event is answered 202. See deploy/README.md, "Durability".
	NATSSyncInterval time.Duration

	// IndexURL is the PostgreSQL audit index (postgres://...) replicas
	// share; default a SQLite index under DataDir/index. IndexMaxAge is
	// how long it keeps events, by event time; default 7 days. IndexOff
	// runs no index (and no search endpoints).
	IndexURL    string
	IndexMaxAge time.Duration
	IndexOff    bool

	// Buckets are the storage locations CTS trackers may write to, bucket
	// name to local directory (see archive.Buckets); none: a tracker can
	// name no bucket. ArchiveRegion is the region in trace file paths
	// (default archive.DefaultRegion), ArchiveInterval how often trackers
	// look for new events (default archive.DefaultInterval), and
	// DataTrackerQuota a project's data trackers at most (default
	// cts.DefaultDataTrackerQuota).
	Buckets          map[string]string
	ArchiveRegion    string
	ArchiveInterval  time.Duration
	DataTrackerQuota int64
}

// Defaults.
const (
	DefaultListen     = "127.0.0.1:8080"
	DefaultDataDir    = "./data"
	DefaultNATSListen = "127.0.0.1:4222"
	// DefaultMaxHeaderBytes is far above what any client of the API sends
	// and far below what a flood of connections could make costly.
	DefaultMaxHeaderBytes       = 64 << 10
	DefaultMaxConnections       = 1024
	DefaultMaxClientConnections = 128
)

func withDefaults(c Config) Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.NATSListen == "" {
		c.NATSListen = DefaultNATSListen
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = api.DefaultMaxBodyBytes
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxClientConnections == 0 {
		c.MaxClientConnections = DefaultMaxClientConnections
	}
	return c
}
