package router

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// startBus starts the embedded server (unless NATSURL is set), connects,
// and ensures the events stream. The embedded server takes only
// authenticated clients: auditbus as its internal user, and the
// subscriber users of NATSUsersFile.
func (s *Server) startBus(ctx context.Context) error {
	opts := []nats.Option{
		nats.Name("auditbus"),
		nats.MaxReconnects(-1),
		// Replies to auditbus (KV reads of consent tokens, DLQ fetches)
		// must not land where subscribers may listen (_INBOX.>).
		nats.CustomInboxPrefix(bus.InternalInboxPrefix),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil is our own clean close at shutdown
				s.cfg.Log.Warn().Err(err).Msg("NATS disconnected")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.cfg.Log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("NATS reconnected")
		}),
		// Without a handler nats.go prints asynchronous errors (a
		// subscription's consumer gone during an outage, a slow consumer)
		// to stderr, outside the structured log.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			ev := s.cfg.Log.Warn().Err(err)
			if sub != nil {
				ev = ev.Str("subject", sub.Subject)
			}
			ev.Msg("NATS asynchronous error")
		}),
	}
	if err := natsFlagsError(s.cfg); err != nil {
		return err
	}
	url := s.cfg.NATSURL
	if url == "" {
		o, err := s.startEmbedded()
		if err != nil {
			return err
		}
		opts = append(opts, o...)
	} else {
		o, err := s.cfg.NATSAuth.Options()
		if err != nil {
			return err
		}
		opts = append(opts, o...)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect to NATS %s: %w", url, err)
	}
	s.nc = nc
	if s.js, err = jetstream.New(nc); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	scfg := s.cfg.Stream
	scfg.AtomicPublish = s.atomicBatches()
	if _, err := bus.EnsureStream(ctx, s.js, scfg); err != nil {
		return err
	}
	return nil
}

// atomicBatches reports whether ingest writes multi-event requests as
// atomic batches: on the embedded server (its version is known) when it
// fsyncs every write, where a batch costs one fsync instead of one per
// event. With a sync interval a batch only adds the server's staging of
// it (BenchmarkIngestSync: about 0.6x the events/s of publishing them one
// by one).
func (s *Server) atomicBatches() bool {
	return s.cfg.NATSURL == "" && s.cfg.NATSSyncInterval == 0
}

// diskCheckInterval is how often the embedded server's store is checked
// for a full disk, and a full one for room to restart JetStream.
const diskCheckInterval = 2 * time.Second

// startEmbedded loads (or makes) the internal user, reads the users file,
// starts the server and the users file's watcher, and returns the options
// that connect to the server as the internal user.
func (s *Server) startEmbedded() ([]nats.Option, error) {
	emb, err := embeddedConfig(s.cfg)
	if err != nil {
		return nil, err
	}
	internal, err := bus.LoadInternalUser(s.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	emb.Internal = internal.Public()
	var watcher *bus.UsersWatcher
	if s.cfg.NATSUsersFile != "" {
		if watcher, err = bus.NewUsersWatcher(s.cfg.NATSUsersFile, s.cfg.Log); err != nil {
			return nil, err
		}
		emb.Users = watcher.Users()
	}
	if s.ns, err = bus.StartEmbedded(emb); err != nil {
		return nil, err
	}
	if watcher != nil {
		s.bgWG.Go(func() { watcher.Run(s.bgCtx, s.ns, emb) })
	}
	s.disk = bus.NewDiskWatch(s.ns, emb, s.cfg.Log)
	s.bgWG.Go(func() { s.disk.Run(s.bgCtx, diskCheckInterval) })
	s.cfg.Log.Info().Str("seed", internal.SeedFile).Int("subscribers", len(emb.Users)).Msg("embedded NATS requires credentials")
	return []nats.Option{nats.InProcessServer(s.ns), internal.Option()}, nil
}

// embeddedConfig turns --nats-listen into the embedded server's address;
// "-" keeps it in-process only (no TCP listener, as tests want). Port 0
// picks a free port.
func embeddedConfig(c Config) (bus.EmbeddedConfig, error) {
	emb := bus.EmbeddedConfig{DataDir: c.DataDir, MaxPayload: bus.PayloadFor(c.MaxBodyBytes), MaxStore: c.NATSMaxStore,
		SyncInterval: c.NATSSyncInterval}
	if c.NATSListen == "-" {
		emb.InProcessOnly = true
		return emb, nil
	}
	host, port, err := net.SplitHostPort(c.NATSListen)
	if err != nil {
		return emb, fmt.Errorf("nats listen address %q: %w", c.NATSListen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return emb, fmt.Errorf("nats listen port %q: %w", port, err)
	}
	emb.Host, emb.Port = host, p
	if p == 0 {
		emb.Port = server.RANDOM_PORT
	}
	return emb, nil
}

// stopEmbedded stops the embedded server; its users file's watcher has
// stopped with the others.
func (s *Server) stopEmbedded() {
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
}

// drain flushes and closes the connection, waiting a bounded time.
func drain(nc *nats.Conn) error {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return err
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		nc.Close()
	}
	return nil
}

// NATSClientURL is the embedded server's client URL for other tools
// (nats://127.0.0.1:4222), or "" with an external server or with no
// listener (--nats-listen -).
func (s *Server) NATSClientURL() string {
	if s.ns == nil || s.cfg.NATSListen == "-" {
		return ""
	}
	return s.ns.ClientURL()
}

// natsFlagsError refuses NATS flags that do not fit the server in use:
// the embedded server's settings with --nats-url, client credentials
// without it, a users file with no listener to connect to.
func natsFlagsError(c Config) error {
	if c.NATSURL != "" {
		if c.NATSUsersFile != "" {
			return errors.New("--nats-users configures the embedded NATS server; with --nats-url, give users to that server")
		}
		if c.NATSMaxStore != 0 {
			return errors.New("--nats-max-store limits the embedded NATS server; with --nats-url, set max_file_store on that server")
		}
		if c.NATSSyncInterval != 0 {
			return errors.New("--nats-sync-interval configures the embedded NATS server; with --nats-url, set sync_interval on that server")
		}
		return nil
	}
	if !c.NATSAuth.IsZero() {
		return errors.New("--nats-creds, --nats-nkey, --nats-user and the --nats TLS options need --nats-url (the embedded server uses its own credentials)")
	}
	if _, err := embeddedConfig(c); err != nil {
		return err
	}
	if c.NATSUsersFile != "" && c.NATSListen == "-" {
		return errors.New("--nats-users needs a NATS listener: --nats-listen - lets no subscriber connect")
	}
	return nil
}
