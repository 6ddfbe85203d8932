package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/router/ruleset"
)

const (
	subUser     = "siem"
	subPassword = "correct horse battery staple"
	eventSubj   = "auditbus.events.default.tke.ApiCall.DeleteCluster"
	stateProbe  = "probe-target"
	stateSecret = "consent-token-do-not-leak"
)

// lockedDown is a running auditbus with a TCP NATS listener, a users file
// with one password user and one nkey user, and probe values in the KV
// buckets and the DLQ for the subscribers to fail to read.
type lockedDown struct {
	srv       *router.Server
	dataDir   string
	usersFile string
	nkeySeed  []byte
	url       string
	js        jetstream.JetStream // the internal connection's
}

func startLockedDown(t *testing.T) *lockedDown {
	t.Helper()
	return startLockedDownLogging(t, nil)
}

// startLockedDownLogging is startLockedDown with the router's log also
// written to logs (when not nil).
func startLockedDownLogging(t *testing.T, logs io.Writer) *lockedDown {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(subPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	l := &lockedDown{dataDir: t.TempDir(), nkeySeed: seed}
	l.usersFile = filepath.Join(t.TempDir(), "nats-users.yaml")
	writeFile(t, l.usersFile, []byte(fmt.Sprintf("users:\n  - name: %s\n    password_bcrypt: %q\n  - name: tool\n    nkey: %s\n    subjects: [alerts.>]\n", subUser, hash, pub)))
	l.srv = start(t, l.dataDir, func(c *router.Config) {
		c.NATSListen = "127.0.0.1:0"
		c.NATSUsersFile = l.usersFile
		if logs != nil {
			c.Log = zerolog.New(io.MultiWriter(logs, zerolog.NewTestWriter(t))).Level(zerolog.InfoLevel)
		}
	})
	l.url = l.srv.NATSClientURL()
	if !strings.HasPrefix(l.url, "nats://127.0.0.1:") {
		t.Fatalf("NATS client URL %q", l.url)
	}
	if l.js, err = jetstream.New(l.srv.NATS()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for bucket, value := range map[string]string{dispatch.StateBucket: stateSecret, ruleset.DefaultBucket: "rule-probe"} {
		kv, err := l.js.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatalf("bucket %s: %v", bucket, err)
		}
		if _, err := kv.PutString(ctx, stateProbe, value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.js.Publish(ctx, bus.DLQSubject("default", "r", "t"), []byte(`{"dead":"letter"}`)); err != nil {
		t.Fatal(err)
	}
	return l
}

// connect dials the embedded server; the connection closes with the test.
func (l *lockedDown) connect(t *testing.T, opts ...nats.Option) (*nats.Conn, error) {
	t.Helper()
	quiet := nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}) // refusals are expected here
	nc, err := nats.Connect(l.url, append([]nats.Option{nats.NoReconnect(), nats.Timeout(5 * time.Second), quiet}, opts...)...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

func (l *lockedDown) subscriber(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := l.connect(t, nats.UserInfo(subUser, subPassword))
	if err != nil {
		t.Fatalf("subscriber connect: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func (l *lockedDown) publish(t *testing.T, id string) {
	t.Helper()
	if _, err := l.js.Publish(context.Background(), eventSubj, []byte(`{"specversion":"1.0","id":"`+id+`"}`)); err != nil {
		t.Fatal(err)
	}
}

func (l *lockedDown) streamMsgs(t *testing.T, stream string) uint64 {
	t.Helper()
	s, err := l.js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestNATSRefusesClientsWithoutValidCredentials(t *testing.T) {
	l := startLockedDown(t)
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	for _, tc := range []struct {
		name string
		opts []nats.Option
	}{
		{"anonymous", nil},
		{"wrong password", []nats.Option{nats.UserInfo(subUser, "wrong")}},
		{"unknown user", []nats.Option{nats.UserInfo("mallory", subPassword)}},
		{"the hash as password", []nats.Option{nats.UserInfo(subUser, "$2a$04$abcdefghijklmnopqrstuuJ7sEh1Vm9eV1o2Tz5eQWmB8dxIcNCb6")}},
		{"unknown nkey", []nats.Option{nkeyOption(t, otherSeed)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.connect(t, tc.opts...)
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Fatalf("connect: %v, want %v", err, nats.ErrAuthorization)
			}
		})
	}
	if _, err := l.connect(t, nkeyOption(t, l.nkeySeed)); err != nil {
		t.Fatalf("the nkey user: %v", err)
	}
}

func nkeyOption(t *testing.T, seed []byte) nats.Option {
	t.Helper()
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return nats.Nkey(pub, kp.Sign)
}

func TestNATSSubscriberReadsEvents(t *testing.T) {
	l := startLockedDown(t)
	nc, js := l.subscriber(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	live, err := nc.SubscribeSync(bus.SubjectPrefix + ".>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	l.publish(t, "e1")
	m, err := live.NextMsg(5 * time.Second)
	if err != nil || !strings.Contains(string(m.Data), `"e1"`) {
		t.Fatalf("live: %v %q", err, msgData(m))
	}

	st, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if st.CachedInfo().State.Msgs < 1 {
		t.Fatalf("stream info shows %d messages", st.CachedInfo().State.Msgs)
	}

	ordered, err := js.OrderedConsumer(ctx, bus.StreamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{bus.SubjectPrefix + ".>"}})
	if err != nil {
		t.Fatalf("ordered consumer: %v", err)
	}
	om, err := ordered.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil || !strings.Contains(string(om.Data()), `"e1"`) {
		t.Fatalf("ordered consumer next: %v", err)
	}

	durable, err := js.CreateOrUpdateConsumer(ctx, bus.StreamName, jetstream.ConsumerConfig{
		Durable: "siem", FilterSubject: bus.SubjectPrefix + ".>", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("durable consumer: %v", err)
	}
	batch, err := durable.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got int
	for dm := range batch.Messages() {
		if err := dm.DoubleAck(ctx); err != nil {
			t.Fatalf("ack: %v", err)
		}
		got++
	}
	if got != 1 || batch.Error() != nil {
		t.Fatalf("fetched %d, err %v", got, batch.Error())
	}
	info, err := durable.Info(ctx)
	if err != nil || info.AckFloor.Stream < 1 {
		t.Fatalf("durable info after ack: %v %+v", err, info)
	}
}

// TestNATSSubscriberIsReadOnly tries, as a subscriber, everything that
// would read auditbus's state or change the bus, and checks both the
// refusal and that nothing changed.
func TestNATSSubscriberIsReadOnly(t *testing.T) {
	l := startLockedDown(t)
	ctx := context.Background()
	kvStream := "KV_" + dispatch.StateBucket
	refused := []struct{ name, subject string }{
		{"state bucket direct get", "$JS.API.DIRECT.GET." + kvStream + ".$KV." + dispatch.StateBucket + "." + stateProbe},
		{"state bucket msg get", "$JS.API.STREAM.MSG.GET." + kvStream},
		{"state bucket info", "$JS.API.STREAM.INFO." + kvStream},
		{"state bucket consumer", "$JS.API.CONSUMER.CREATE." + kvStream + ".x"},
		{"rules bucket direct get", "$JS.API.DIRECT.GET.KV_" + ruleset.DefaultBucket + ".$KV." + ruleset.DefaultBucket + "." + stateProbe},
		{"rules bucket consumer", "$JS.API.CONSUMER.CREATE.KV_" + ruleset.DefaultBucket + ".x"},
		{"DLQ info", "$JS.API.STREAM.INFO." + bus.DLQStream},
		{"DLQ msg get", "$JS.API.STREAM.MSG.GET." + bus.DLQStream},
		{"DLQ consumer", "$JS.API.CONSUMER.CREATE." + bus.DLQStream + ".x"},
		{"deliveries consumer", "$JS.API.CONSUMER.CREATE." + bus.DeliveriesStream + ".x"},
		{"deliveries info", "$JS.API.STREAM.INFO." + bus.DeliveriesStream},
		{"stream create", "$JS.API.STREAM.CREATE.EVIL"},
		{"stream update", "$JS.API.STREAM.UPDATE." + bus.StreamName},
		{"stream delete", "$JS.API.STREAM.DELETE." + bus.StreamName},
		{"stream purge", "$JS.API.STREAM.PURGE." + bus.StreamName},
		{"message delete", "$JS.API.STREAM.MSG.DELETE." + bus.StreamName},
		{"router consumer redefined", "$JS.API.CONSUMER.CREATE." + bus.StreamName + "." + bus.RouterConsumer},
		{"router consumer fetched", "$JS.API.CONSUMER.MSG.NEXT." + bus.StreamName + "." + bus.RouterConsumer},
		{"router consumer deleted", "$JS.API.CONSUMER.DELETE." + bus.StreamName + "." + bus.RouterConsumer},
		{"legacy create (name in body)", "$JS.API.CONSUMER.CREATE." + bus.StreamName},
		{"legacy durable create", "$JS.API.CONSUMER.DURABLE.CREATE." + bus.StreamName + ".x"},
		{"forged event", eventSubj},
		{"KV put", "$KV." + dispatch.StateBucket + "." + stateProbe},
	}
	p := l.probe(t)
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			if err := p.refused(p.nc.Publish(r.subject, []byte(`{"stream_name":"`+bus.StreamName+`","config":{"name":"`+bus.RouterConsumer+`"}}`)), r.subject); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, subj := range []string{"$KV.>", "$KV." + dispatch.StateBucket + ".>", bus.DLQPrefix + ".>", bus.DeliveriesPrefix + ".>",
		bus.InternalInboxPrefix + ".>", ">", "$JS.API.>"} {
		t.Run("subscribe "+subj, func(t *testing.T) {
			_, err := p.nc.SubscribeSync(subj)
			if err := p.refused(err, subj); err != nil {
				t.Fatal(err)
			}
		})
	}

	// Nothing changed: the probe value, the events (none forged), the DLQ.
	kv, err := l.js.KeyValue(ctx, dispatch.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, stateProbe); err != nil || string(e.Value()) != stateSecret || e.Revision() != 1 {
		t.Fatalf("state probe after the attempts: %v %v", err, e)
	}
	if n := l.streamMsgs(t, bus.StreamName); n != 0 {
		t.Fatalf("events stream holds %d messages; the subscriber's publishes landed", n)
	}
	if n := l.streamMsgs(t, bus.DLQStream); n != 1 {
		t.Fatalf("DLQ holds %d messages, want the 1 probe", n)
	}
	if _, err := l.js.Stream(ctx, "EVIL"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("stream EVIL: %v", err)
	}
}

func msgData(m *nats.Msg) string {
	if m == nil {
		return ""
	}
	return string(m.Data)
}

// probe is a subscriber connection that reports the server's refusals.
type probe struct {
	nc   *nats.Conn
	errs chan error
}

func (l *lockedDown) probe(t *testing.T) *probe {
	t.Helper()
	p := &probe{errs: make(chan error, 100)}
	nc, err := l.connect(t, nats.UserInfo(subUser, subPassword), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		p.errs <- err
	}))
	if err != nil {
		t.Fatal(err)
	}
	p.nc = nc
	return p
}

// refused reports nil when the server refused the publish or subscription
// to subject just sent (err is what sending it returned).
func (p *probe) refused(err error, subject string) error {
	if err != nil {
		return err
	}
	// The server answers PUB or SUB with -ERR before the PONG of this flush.
	if err := p.nc.Flush(); err != nil {
		return err
	}
	select {
	case err := <-p.errs:
		if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), `"`+subject+`"`) {
			return nil
		}
		return fmt.Errorf("%s: %w, want a permissions violation for it", subject, err)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s: allowed, want a permissions violation", subject)
	}
}

// TestNATSPushConsumerCannotWriteElsewhere: nats-server does not check a
// push consumer's deliver subject against its creator's permissions, so a
// subscriber can point one anywhere. Deliveries into a KV bucket or a
// delivery queue must still store nothing there.
func TestNATSPushConsumerCannotWriteElsewhere(t *testing.T) {
	l := startLockedDown(t)
	nc, _ := l.subscriber(t)
	targets := []string{"$KV." + dispatch.StateBucket + "." + stateProbe, bus.DeliverySubject("default", "r", "t"), "$JS.API.STREAM.DELETE." + bus.DLQStream}
	for i, deliver := range targets {
		name := fmt.Sprintf("push%d", i)
		req, _ := json.Marshal(map[string]any{"stream_name": bus.StreamName, "config": map[string]any{
			"name": name, "deliver_subject": deliver, "ack_policy": "none", "deliver_policy": "all"}})
		if _, err := nc.Request("$JS.API.CONSUMER.CREATE."+bus.StreamName+"."+name, req, 5*time.Second); err != nil {
			t.Fatalf("create push consumer to %s: %v", deliver, err)
		}
	}
	l.publish(t, "pushed")
	// The server delivers a push consumer's messages only while something
	// subscribes to its deliver subject, and neither streams nor the
	// JetStream API count: so nothing is delivered at all. Should a later
	// nats-server deliver, this fails first and the permissions need
	// another look.
	for i := range targets {
		var info jetstream.ConsumerInfo
		waitFor(t, "the push consumer counts the event as pending", func() (bool, string) {
			m, err := l.srv.NATS().Request(fmt.Sprintf("$JS.API.CONSUMER.INFO.%s.push%d", bus.StreamName, i), nil, 5*time.Second)
			if err != nil {
				return false, err.Error()
			}
			info = jetstream.ConsumerInfo{}
			err = json.Unmarshal(m.Data, &info)
			return err == nil && info.NumPending == 1, string(m.Data)
		})
		if info.Delivered.Stream != 0 {
			t.Fatalf("push consumer %d delivered to %s, up to %d", i, targets[i], info.Delivered.Stream)
		}
	}
	kv, err := l.js.KeyValue(context.Background(), dispatch.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(context.Background(), stateProbe); err != nil || e.Revision() != 1 {
		t.Fatalf("state probe: %v %v", err, e)
	}
	if n := l.streamMsgs(t, bus.DLQStream); n != 1 {
		t.Fatalf("DLQ holds %d messages, want the 1 probe", n)
	}
	if n := l.streamMsgs(t, bus.DeliveriesStream); n != 0 {
		t.Fatalf("deliveries stream holds %d messages", n)
	}
}

func TestNATSInternalRepliesAreOutOfSubscribersReach(t *testing.T) {
	l := startLockedDown(t)
	if inbox := l.srv.NATS().NewInbox(); !strings.HasPrefix(inbox, bus.InternalInboxPrefix+".") {
		t.Fatalf("internal inbox %q", inbox)
	}
	p := l.probe(t)
	_, err := p.nc.SubscribeSync(bus.InternalInboxPrefix + ".>")
	if err := p.refused(err, bus.InternalInboxPrefix+".>"); err != nil {
		t.Fatal(err)
	}
	if bus.RouterConsumer != dispatch.ConsumerName {
		t.Fatalf("bus.RouterConsumer %q, dispatch.ConsumerName %q: the subscriber permissions guard the wrong consumer", bus.RouterConsumer, dispatch.ConsumerName)
	}
}

func TestNATSCredentialsFilesArePrivateAndReused(t *testing.T) {
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "nats", "auditbus.nk")
	start(t, dir, nil).Stop(context.Background()) // in-process only: the seed is made all the same
	first, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{filepath.Dir(seedFile): 0o700, seedFile: 0o600} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Fatalf("%s: %v, mode %v, want %v", path, err, st.Mode().Perm(), want)
		}
	}

	// A restart reuses it, and it is what the nats CLI's --nkey takes.
	srv := start(t, dir, func(c *router.Config) { c.NATSListen = "127.0.0.1:0" })
	if again, _ := os.ReadFile(seedFile); string(again) != string(first) {
		t.Fatal("a restart generated a new seed")
	}
	opt, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.NATSClientURL(), opt)
	if err != nil {
		t.Fatalf("connect with the seed file: %v", err)
	}
	nc.Close()
	srv.Stop(context.Background())

	for _, exposed := range []struct {
		path string
		mode os.FileMode
	}{{seedFile, 0o644}, {filepath.Dir(seedFile), 0o755}} {
		if err := os.Chmod(exposed.path, exposed.mode); err != nil {
			t.Fatal(err)
		}
		_, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: dir, NATSListen: "-"})
		if !errors.Is(err, bus.ErrCredentialsExposed) || !strings.Contains(err.Error(), exposed.path) {
			t.Fatalf("start with %s at %04o: %v", exposed.path, exposed.mode, err)
		}
		// Back to private for the next case.
		if err := errors.Join(os.Chmod(seedFile, 0o600), os.Chmod(filepath.Dir(seedFile), 0o700)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNATSUsersFileReload(t *testing.T) {
	logs := &syncBuffer{}
	l := startLockedDownLogging(t, logs)
	if _, err := l.connect(t, nats.UserInfo(subUser, subPassword)); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("second"), bcrypt.MinCost)
	writeFile(t, l.usersFile, []byte(fmt.Sprintf("users:\n  - name: second\n    password_bcrypt: %q\n", hash)))
	waitFor(t, "the new user admitted", func() (bool, string) {
		_, err := l.connect(t, nats.UserInfo("second", "second"))
		return err == nil, fmt.Sprint(err)
	})
	if _, err := l.connect(t, nats.UserInfo(subUser, subPassword)); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("removed user: %v", err)
	}

	// A broken edit is logged and keeps the users as they were.
	writeFile(t, l.usersFile, []byte("users:\n  - name: second\n    password_bcrypt: plain-text\n"))
	waitFor(t, "the broken file reported", func() (bool, string) {
		return strings.Contains(logs.String(), "NATS users not reloaded"), logs.String()
	})
	if _, err := l.connect(t, nats.UserInfo("second", "second")); err != nil {
		t.Fatalf("after a broken edit: %v", err)
	}
}

func TestNATSUsersFileRefusedAtStart(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "users.yaml")
	writeFile(t, bad, []byte("users:\n  - name: x\n    password_bcrypt: hunter2\n"))
	for name, tc := range map[string]struct {
		cfg  router.Config
		want string
	}{
		"invalid file":            {router.Config{NATSListen: "127.0.0.1:0", NATSUsersFile: bad}, "not a bcrypt hash"},
		"missing file":            {router.Config{NATSListen: "127.0.0.1:0", NATSUsersFile: bad + ".missing"}, "no such file"},
		"users without listener":  {router.Config{NATSListen: "-", NATSUsersFile: bad}, "needs a NATS listener"},
		"client auth on embedded": {router.Config{NATSListen: "-", NATSAuth: bus.ClientAuth{User: "x", Password: "y"}}, "need --nats-url"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.Listen, tc.cfg.DataDir = "127.0.0.1:0", t.TempDir()
			srv, err := router.Start(context.Background(), tc.cfg)
			if err == nil {
				srv.Stop(context.Background())
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestNATSSubscriberConsumersBounded: subscribers, who cannot delete the
// consumers they make, cannot make more than the events stream allows
// (found in review: 300 durables, unbounded).
func TestNATSSubscriberConsumersBounded(t *testing.T) {
	l := startLockedDown(t)
	_, js := l.subscriber(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	made := 0
	var err error
	for made < bus.DefaultMaxConsumers+5 {
		if _, err = js.CreateConsumer(ctx, bus.StreamName, jetstream.ConsumerConfig{Durable: fmt.Sprintf("siem-%d", made)}); err != nil {
			break
		}
		made++
	}
	if !errors.Is(err, jetstream.ErrMaximumConsumersLimit) {
		t.Fatalf("after %d consumers: %v, want the stream's consumer limit", made, err)
	}
	// The router's own consumer and the audit index's are two of the limit's.
	if made != bus.DefaultMaxConsumers-2 {
		t.Errorf("a subscriber made %d consumers, want %d", made, bus.DefaultMaxConsumers-2)
	}
}
