package router_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

// TestDeployNATSConfig runs the shipped cluster config (deploy/
// nats-cluster.conf) as one loopback node, with the test's own key and
// password in place of the config's, but its permissions as they are:
// auditbus runs on them (rules bucket, target state, delivery to a nats
// target), the subscriber reads events through a consumer, and neither an
// anonymous client nor the subscriber reaches the rest.
func TestDeployNATSConfig(t *testing.T) {
	opts, err := server.ProcessConfigFile("../deploy/nats-cluster.conf")
	if err != nil {
		t.Fatalf("deploy/nats-cluster.conf: %v", err)
	}
	if opts.NoAuthUser != "" || len(opts.Nkeys) != 1 || len(opts.Users) != 1 {
		t.Fatalf("want one nkey user (auditbus) and one password user (a subscriber), no anonymous access: %d nkeys, %d users, no_auth_user %q", len(opts.Nkeys), len(opts.Users), opts.NoAuthUser)
	}
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "auditbus.nk")
	writeFile(t, seedFile, seed)
	opts.Nkeys[0].Nkey = pub
	hash, _ := bcrypt.GenerateFromPassword([]byte("siem-password"), bcrypt.MinCost)
	opts.Users[0].Password = string(hash)
	// Whoever reads the nats target's subject, as a deployment adds them.
	opts.Users = append(opts.Users, &server.User{Username: "alerts", Password: "alerts-password",
		Permissions: &server.Permissions{Subscribe: &server.SubjectPermission{Allow: []string{"alerts.>"}}}})
	opts.Host, opts.Port, opts.StoreDir, opts.NoSigs, opts.NoLog = "127.0.0.1", server.RANDOM_PORT, t.TempDir(), true, true
	opts.Cluster, opts.Routes, opts.ServerName = server.ClusterOpts{}, nil, "deploy-test"
	ns := runNATS(t, opts)

	rule := "name: to-nats\npattern:\n  type: [\"tke:CloudEvent:ApiCall\"]\ntargets:\n  - id: out\n    nats: {subject: alerts.tke}\n"
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.NATSURL, c.NATSAuth = ns.ClientURL(), bus.ClientAuth{NkeySeedFile: seedFile}
	}, writeRules(t, rule))
	admin, err := nats.Connect(ns.ClientURL(), nats.UserInfo("alerts", "alerts-password"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	alerts, err := admin.SubscribeSync("alerts.tke")
	if err != nil {
		t.Fatal(err)
	}
	admin.Flush()
	sendEvent(t, s, "deploy-1", "DeleteCluster")
	if _, err := alerts.NextMsg(10 * time.Second); err != nil {
		t.Fatalf("no delivery to the nats target under the shipped permissions: %v", err)
	}

	if _, err := nats.Connect(ns.ClientURL()); err == nil {
		t.Error("an anonymous client connected")
	}
	violations := make(chan error, 16)
	siem, err := nats.Connect(ns.ClientURL(), nats.UserInfo(opts.Users[0].Username, "siem-password"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer siem.Close()
	js, _ := jetstream.New(siem)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, bus.StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("subscriber's consumer on the events stream: %v", err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil || !strings.Contains(string(msg.Data()), "deploy-1") {
		t.Fatalf("subscriber read %v, %v; want the event", msg, err)
	}
	// The server answers a refused publish with -ERR before the PONG of
	// the flush after it.
	for _, subject := range []string{"$JS.API.STREAM.INFO.KV_AUDITBUS_RULES", "$JS.API.STREAM.INFO.KV_auditbus-target-state",
		"$JS.API.STREAM.MSG.GET." + bus.DLQStream, "$JS.API.STREAM.MSG.GET." + bus.DeliveriesStream,
		"$KV.auditbus-target-state.x", "$KV.auditbus-trackers.p1.system", "$JS.API.STREAM.DELETE." + bus.StreamName,
		bus.SubjectPrefix + ".default.tke.ApiCall.Forged"} {
		siem.Publish(subject, []byte(`{}`))
		siem.Flush()
		if !refusedWithin(violations, subject, 5*time.Second) {
			t.Errorf("subscriber may publish to %s", subject)
		}
	}
	if n := streamMsgs(t, s); n != 1 {
		t.Errorf("events stream holds %d, want 1", n)
	}
	// CTS trackers live in auditbus's own KV bucket on these permissions.
	if status, _, out := call(t, s, http.MethodPost, "/v3/p1/tracker", "application/json",
		[]byte(`{"tracker_type":"system","tracker_name":"system"}`), nil); status != http.StatusCreated {
		t.Errorf("create a tracker on the shipped permissions: %d %v", status, out)
	}
	// So do topics and the names of CTS notifications.
	if status, _, out := call(t, s, http.MethodPut, "/v1/topics/ops", "application/json", []byte(`{}`), nil); status != http.StatusCreated {
		t.Errorf("create a topic on the shipped permissions: %d %v", status, out)
	}
	if status, _, out := call(t, s, http.MethodPost, "/v3/p1/notifications", "application/json",
		[]byte(`{"notification_name":"n","operation_type":"complete","topic_id":"urn:smn:auditbus:default:ops"}`), nil); status != http.StatusCreated {
		t.Errorf("create a notification on the shipped permissions: %d %v", status, out)
	}
}

// refusedWithin waits for the permissions violation naming subject,
// passing over others (the ordered consumer's own clean-up is refused a
// consumer delete).
func refusedWithin(violations <-chan error, subject string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case err := <-violations:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), `"`+subject+`"`) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
