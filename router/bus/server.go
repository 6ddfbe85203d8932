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
	// Host and Port the server listens on for other clients (tail, publish
	// --nats). Port 0 or -1 means a random port. Default: 127.0.0.1 and -1.
	Host string
	Port int
	// InProcessOnly starts no client listener at all: only connections made
	// with nats.InProcessServer reach the server.
	InProcessOnly bool
	// ReadyTimeout bounds the wait for the server to accept connections.
	// Default 10s.
	ReadyTimeout time.Duration
}

// ErrNotReady is returned when the embedded server does not become ready in
// time, usually because its data directory is locked by another process.
var ErrNotReady = errors.New("embedded NATS server not ready")

// StartEmbedded starts a NATS server with JetStream on file storage under
// cfg.DataDir and waits until it accepts connections. The caller owns the
// server and stops it with Shutdown followed by WaitForShutdown.
func StartEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded NATS: data dir is required")
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
	opts := &server.Options{
		ServerName: "auditbus-embedded",
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   filepath.Join(cfg.DataDir, "jetstream"),
		NoSigs:     true,
		NoLog:      true,
		DontListen: cfg.InProcessOnly,
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
