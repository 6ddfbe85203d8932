package bus

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedConfig configures the NATS server auditbus runs in-process when no
// external server is given.
type EmbeddedConfig struct {
	// DataDir holds JetStream's files (under DataDir/jetstream). Required.
	DataDir string
	// Host and Port the server listens on for other clients (subscribers,
	// the nats CLI). Port 0 or -1 means a random port. Default: 127.0.0.1
	// and -1.
	Host string
	Port int
	// InProcessOnly starts no client listener at all: only connections made
	// with nats.InProcessServer reach the server. They authenticate all the
	// same.
	InProcessOnly bool
	// Internal is the public nkey of auditbus's own user (see
	// LoadInternalUser), the one identity with full access. Required: the
	// server never accepts anonymous clients.
	Internal string
	// Users are the subscriber users (see ParseUsers), each limited to
	// SubscriberPermissions.
	Users []SubscriberUser
	// MaxPayload is the largest message the server carries; default
	// PayloadFor(1 MiB).
	MaxPayload int32
	// ReadyTimeout bounds the wait for the server to accept connections.
	// Default 10s.
	ReadyTimeout time.Duration
	// MaxStore is the most bytes JetStream stores on disk (every stream,
	// bucket and dead letter together); past it a publish is refused with
	// ErrStorageFull. 0 leaves it to nats-server: 75% of the free space of
	// DataDir's filesystem at start, plus 75% of what JetStream already
	// stores there. The server's effective value is in JetStreamConfig.
	// Only file storage counts: auditbus keeps nothing in memory streams.
	MaxStore int64
	// SyncInterval is how often JetStream fsyncs its files. 0 (the
	// default) fsyncs every write before the publish is acknowledged
	// (nats-server's sync_interval: always), so an event answered 202
	// survives a power failure or OS crash; a positive interval lets a
	// power failure lose what was written within the last interval
	// (nats-server's own default is 2 minutes). A crash of the process
	// alone needs no fsync: what was written is in the OS's page cache.
	// Negative is an error.
	SyncInterval time.Duration
}

// PayloadFor is the NATS max_payload that carries every event an API
// with a maxBody request limit accepts, with its deliveries and dead
// letters: a binary-mode body grows by a third as data_base64, and a dead
// letter adds DeadLetterHeadroom. Never below NATS's own 1 MiB default,
// nor above its 64 MiB ceiling.
func PayloadFor(maxBody int64) int32 {
	return int32(min(max(maxBody*3/2+4*DeadLetterHeadroom, 1<<20), 64<<20))
}

// ErrNotReady is returned when the embedded server does not become ready in
// time, usually because its data directory is locked by another process.
var ErrNotReady = errors.New("embedded NATS server not ready")

// StartEmbedded starts a NATS server with JetStream on file storage under
// cfg.DataDir and waits until it accepts connections. Every client must
// authenticate: as the internal user, or as one of cfg.Users. The caller
// owns the server and stops it with Shutdown followed by WaitForShutdown.
func StartEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	cfg = cfg.withDefaults()
	opts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("%w after %s (data dir %s)", ErrNotReady, cfg.ReadyTimeout, cfg.DataDir)
	}
	return ns, nil
}

// ReloadUsers replaces the subscriber users of a server StartEmbedded
// started from cfg, without a restart; clients of users no longer allowed
// are disconnected by the server. cfg must be the configuration the
// server was started with.
func ReloadUsers(ns *server.Server, cfg EmbeddedConfig, users []SubscriberUser) error {
	cfg = cfg.withDefaults()
	cfg.Users = users
	opts, err := cfg.options()
	if err != nil {
		return err
	}
	if err := ns.ReloadOptions(opts); err != nil {
		return fmt.Errorf("embedded NATS: reload users: %w", err)
	}
	return nil
}

func (cfg EmbeddedConfig) withDefaults() EmbeddedConfig {
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = PayloadFor(1 << 20)
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Port == 0 {
		cfg.Port = -1
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	return cfg
}

// storeDir is the StoreDir the server is given (it keeps its files in a
// jetstream directory below it).
func (cfg EmbeddedConfig) storeDir() string { return filepath.Join(cfg.DataDir, "jetstream") }

// options is a fresh server.Options for cfg each call, since the server
// keeps and modifies what it is given.
func (cfg EmbeddedConfig) options() (*server.Options, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded NATS: data dir is required")
	}
	if cfg.Internal == "" {
		return nil, errors.New("embedded NATS: the internal user's nkey is required")
	}
	if cfg.MaxStore < 0 {
		return nil, fmt.Errorf("embedded NATS: max store %d bytes: want 0 (nats-server's default) or more", cfg.MaxStore)
	}
	opts := &server.Options{
		ServerName: "auditbus-embedded",
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   cfg.storeDir(),
		NoSigs:     true,
		NoLog:      true,
		DontListen: cfg.InProcessOnly,
		Nkeys:      []*server.NkeyUser{{Nkey: cfg.Internal}},
		MaxPayload: cfg.MaxPayload,
	}
	if cfg.MaxStore > 0 {
		opts.JetStreamMaxStore = cfg.MaxStore
	}
	switch {
	case cfg.SyncInterval < 0:
		return nil, fmt.Errorf("embedded NATS: sync interval %s: want 0 (fsync every write) or more", cfg.SyncInterval)
	case cfg.SyncInterval == 0:
		opts.SyncAlways = true
	default:
		opts.SyncInterval = cfg.SyncInterval
	}
	for _, u := range cfg.Users {
		perms := SubscriberPermissions(u.Subjects)
		if u.Nkey != "" {
			opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: u.Nkey, Permissions: perms})
			continue
		}
		opts.Users = append(opts.Users, &server.User{Username: u.Name, Password: u.PasswordHash, Permissions: perms})
	}
	return opts, nil
}
