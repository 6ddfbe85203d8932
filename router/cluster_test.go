package router_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/router/ruleset"
)

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startCluster runs a 3-node NATS cluster with JetStream on loopback and
// waits until JetStream answers through it.
func startCluster(t *testing.T) []*server.Server {
	t.Helper()
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	var nodes []*server.Server
	for i, p := range ports {
		opts := &server.Options{ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "auditbus-test", Host: "127.0.0.1", Port: p},
			Routes:  server.RoutesFromStr(strings.Join(routes, ","))}
		nodes = append(nodes, runNATS(t, opts))
	}
	nc, err := nats.Connect(nodes[0].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return nodes
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStreamReplicasOnACluster: --stream-replicas 3 gives every stream and
// KV bucket auditbus makes three replicas on a 3-node cluster, a restart
// with 1 changes existing ones to 1 (reconciled, not ignored), and a
// single server refuses replicas it cannot have with a clear error.
func TestStreamReplicasOnACluster(t *testing.T) {
	nodes := startCluster(t)
	url := nodes[0].ClientURL() + "," + nodes[1].ClientURL() + "," + nodes[2].ClientURL()
	streams := []string{bus.StreamName, bus.DeliveriesStream, bus.DLQStream, "KV_" + ruleset.DefaultBucket, "KV_" + dispatch.StateBucket}
	replicas := func(s *router.Server) map[string]int {
		js, _ := jetstream.New(s.NATS())
		got := map[string]int{}
		for _, name := range streams {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			st, err := js.Stream(ctx, name)
			cancel()
			if err != nil {
				t.Fatalf("stream %s: %v", name, err)
			}
			got[name] = st.CachedInfo().Config.Replicas
		}
		return got
	}
	dataDir := t.TempDir()
	s := start(t, dataDir, func(c *router.Config) { c.NATSURL, c.Stream.Replicas = url, 3 })
	sendEvent(t, s, "r3-1", "DeleteCluster")
	for name, n := range replicas(s) {
		if n != 3 {
			t.Errorf("stream %s has %d replicas with --stream-replicas 3", name, n)
		}
	}
	s.Stop(context.Background())

	s = start(t, dataDir, func(c *router.Config) { c.NATSURL, c.Stream.Replicas = url, 1 })
	for name, n := range replicas(s) {
		if n != 1 {
			t.Errorf("stream %s has %d replicas after a restart with --stream-replicas 1", name, n)
		}
	}
	if got := streamMsgs(t, s); got != 1 {
		t.Errorf("events stream holds %d events after the change, want 1", got)
	}

	single := runNATS(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		NATSURL: single.ClientURL(), Stream: bus.StreamConfig{Replicas: 3}}); err == nil {
		srv.Stop(context.Background())
		t.Error("started with 3 replicas on a single server")
	} else if !strings.Contains(err.Error(), "replicas") {
		t.Errorf("error %q does not say replicas are the problem", err)
	}
}
