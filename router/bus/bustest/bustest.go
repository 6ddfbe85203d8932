// Package bustest starts a real in-process NATS server with JetStream on a
// temporary directory for tests, the way httptest starts HTTP servers.
package bustest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

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

// Start runs a JetStream server on a random loopback port with its store
// under dir (t.TempDir() when dir is ""). Both are stopped by t.Cleanup.
// Unlike bus.StartEmbedded, the server takes anonymous clients with full
// access, so a test can point anything at NS.ClientURL() as it would at an
// external server; tests of authentication start their own.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ns, err := server.NewServer(&server.Options{ServerName: "auditbus-test", Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: filepath.Join(dir, "jetstream"), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatalf("start nats: %v", bus.ErrNotReady)
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

// WaitSettled waits until the durable consumer of stream has acknowledged
// (or terminated) everything the stream holds, so a test can assert that
// nothing more will be delivered. It compares the consumer's ack floor with
// the stream's last sequence rather than trusting NumPending alone, which
// the server updates asynchronously after a publish. It fails the test after
// timeout, showing the consumer's last state.
func WaitSettled(t testing.TB, js jetstream.JetStream, stream, consumer string, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	var info *jetstream.ConsumerInfo
	for time.Now().Before(deadline) {
		if settled(ctx, js, stream, consumer, &info) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("consumer %s/%s not settled within %s: %+v", stream, consumer, timeout, info)
}

func settled(ctx context.Context, js jetstream.JetStream, stream, consumer string, info **jetstream.ConsumerInfo) bool {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return false
	}
	sinfo, err := st.Info(ctx)
	if err != nil {
		return false
	}
	c, err := st.Consumer(ctx, consumer)
	if err != nil {
		return false
	}
	if *info, err = c.Info(ctx); err != nil {
		return false
	}
	return (*info).AckFloor.Stream >= sinfo.State.LastSeq && (*info).NumAckPending == 0 && (*info).NumPending == 0
}
