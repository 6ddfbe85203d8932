package router

import (
	"context"
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
// and ensures the events stream.
func (s *Server) startBus(ctx context.Context) error {
	opts := []nats.Option{
		nats.Name("auditbus"),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil is our own clean close at shutdown
				s.cfg.Log.Warn().Err(err).Msg("NATS disconnected")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.cfg.Log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("NATS reconnected")
		}),
	}
	url := s.cfg.NATSURL
	if url == "" {
		emb, err := embeddedConfig(s.cfg)
		if err != nil {
			return err
		}
		if s.ns, err = bus.StartEmbedded(emb); err != nil {
			return err
		}
		opts = append(opts, nats.InProcessServer(s.ns))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect to NATS %s: %w", url, err)
	}
	s.nc = nc
	if s.js, err = jetstream.New(nc); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if _, err := bus.EnsureStream(ctx, s.js, s.cfg.Stream); err != nil {
		return err
	}
	return nil
}

// embeddedConfig turns --nats-listen into the embedded server's address;
// "-" keeps it in-process only (no TCP listener, as tests want). Port 0
// picks a free port.
func embeddedConfig(c Config) (bus.EmbeddedConfig, error) {
	emb := bus.EmbeddedConfig{DataDir: c.DataDir}
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
