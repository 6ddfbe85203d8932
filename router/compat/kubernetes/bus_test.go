package kubernetes

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

// storedEvents reads every event on auditbus's events stream, in order,
// through the server's own NATS connection.
func storedEvents(t *testing.T, s *router.Server) []event.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatalf("stream %s: %v", bus.StreamName, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s: %v", bus.StreamName, err)
	}
	var out []event.Event
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("stream %s, message %d: %v", bus.StreamName, seq, err)
		}
		var e event.Event
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatalf("stream %s, message %d is no CloudEvent: %v", bus.StreamName, seq, err)
		}
		out = append(out, e)
	}
	if uint64(len(out)) != info.State.Msgs {
		t.Fatalf("read %d events, the stream says it holds %d", len(out), info.State.Msgs)
	}
	return out
}

// natsServer is an external NATS server with JetStream for auditbus's
// --nats-url, which a test can stop and start again on the same port and
// store, as an operator's restart or crash of the bus would.
type natsServer struct {
	opts *server.Options
	ns   *server.Server
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	n := &natsServer{opts: &server.Options{ServerName: "auditbus-k8s-test", Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: filepath.Join(t.TempDir(), "jetstream"), NoSigs: true, NoLog: true}}
	n.start(t)
	t.Cleanup(n.stop)
	// From now on it comes back on the port it got.
	n.opts.Port = n.ns.Addr().(*net.TCPAddr).Port
	return n
}

// start runs the server; it fails the test if the server is not ready
// within 10 s.
func (n *natsServer) start(t *testing.T) {
	t.Helper()
	ns, err := server.NewServer(n.opts)
	if err != nil {
		t.Fatalf("start NATS: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatalf("start NATS: not ready for connections on %s:%d", n.opts.Host, n.opts.Port)
	}
	n.ns = ns
}

// stop shuts the server down and waits until it is gone; safe to call
// on a stopped server.
func (n *natsServer) stop() {
	n.ns.Shutdown()
	n.ns.WaitForShutdown()
}

// url is the client URL auditbus connects to.
func (n *natsServer) url() string { return n.ns.ClientURL() }
