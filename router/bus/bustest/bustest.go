// Package bustest starts a real in-process NATS server with JetStream on a
// temporary directory for tests, the way httptest starts HTTP servers.
package bustest

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// Server is a running test server and a connection to it.
type Server struct {
	NS  *server.Server
	NC  *nats.Conn
	JS  jetstream.JetStream
	Dir string
}

// Start runs a JetStream server on a random port with its store under
// dir (t.TempDir() when dir is ""). Both are stopped by t.Cleanup.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: dir})
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		ns.Shutdown()
		t.Fatalf("connect nats: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	s := &Server{NS: ns, NC: nc, JS: js, Dir: dir}
	t.Cleanup(s.Stop)
	return s
}

// Stop closes the connection and shuts the server down; safe to call twice.
func (s *Server) Stop() {
	s.NC.Close()
	s.NS.Shutdown()
	s.NS.WaitForShutdown()
}
