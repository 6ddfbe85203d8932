package router_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/auditbus/auditbus/router"
)

// TestShippedClusterConfigSyncsEveryWrite: deploy/nats-cluster.conf
// fsyncs every write (deploy/README.md, "Durability"), and
// --nats-sync-interval, a setting of the embedded server, is refused with
// --nats-url, pointing at the server's own setting.
func TestShippedClusterConfigSyncsEveryWrite(t *testing.T) {
	opts, err := server.ProcessConfigFile("../deploy/nats-cluster.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !opts.SyncAlways {
		t.Errorf("deploy/nats-cluster.conf: sync_always off (sync_interval %s), want sync_interval: always", opts.SyncInterval)
	}
	ns := runNATS(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		NATSURL: ns.ClientURL(), NATSSyncInterval: time.Minute})
	if err == nil {
		srv.Stop(context.Background())
		t.Fatal("started with --nats-sync-interval and --nats-url")
	}
	if !strings.Contains(err.Error(), "sync_interval on that server") {
		t.Errorf("error %q does not point at the server's sync_interval", err)
	}
}
