package router_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
)

// refusalBound is the longest ingest may be refused after a kill. Generous
// on purpose: the test runs on busy CI machines; the measured figures are
// logged.
const refusalBound = 30 * time.Second

// TestClusterKillsUnderLoad runs three nats-server processes (the shipped
// deploy/nats-cluster.conf on loopback) and two `auditbus serve`
// processes with --stream-replicas 3, and keeps four senders posting
// events to both replicas throughout. It kill -9s the node that leads the
// events stream and later starts it again, then kill -9s one auditbus
// replica and starts it again. Every event answered 202 must reach the
// webhook at least once (duplicates are counted, not failed), nothing may
// be dead-lettered, the restarted node must catch up, and ingest may be
// refused only after a kill, for at most refusalBound, and only with a
// 503 that has Retry-After and an error code (or, on the killed auditbus
// process, no answer at all) - never by hanging.
func TestClusterKillsUnderLoad(t *testing.T) {
	bins := t.TempDir()
	natsBin := buildBinary(t, bins, "nats-server", "github.com/nats-io/nats-server/v2")
	auditbusBin := buildBinary(t, bins, "auditbus", "github.com/auditbus/auditbus/cmd/auditbus")
	access := newClusterAccess(t)
	nodes := startNATSProcesses(t, natsBin, access)
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url)
	}
	js, _ := jetstream.New(access.connect(t, strings.Join(urls, ",")))

	// Slow enough that a killed replica has deliveries in flight.
	hook := newWebhook(t, func(*http.Request) int { time.Sleep(2 * time.Millisecond); return http.StatusOK })
	token, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	authFile := writeFile(t, filepath.Join(t.TempDir(), "auth.yaml"),
		[]byte(fmt.Sprintf("identities:\n  - name: load\n    actions: [%s]\n    tokens: [%q]\n", auth.ActionEventsPut, hash)))
	args := []string{"--nats-url", strings.Join(urls, ","), "--nats-nkey", access.seedFile, "--stream-replicas", "3",
		"--rules", writeRules(t, deleteRule(hook.URL)), "--auth-file", authFile, "--allow-private-targets",
		// A killed replica's unacknowledged work comes back this soon.
		"--ack-wait", "5s", "--log-format", "json", "--log-level", "warn"}
	replicas := []*serveProc{newServeProc(t, "auditbus a", auditbusBin, args...), newServeProc(t, "auditbus b", auditbusBin, args...)}
	for _, r := range replicas {
		r.startReady(t)
	}
	if info := eventsStream(t, js); info.Config.Replicas != 3 {
		t.Fatalf("events stream has %d replicas, want 3", info.Config.Replicas)
	}

	load := newIngestLoad(t, token, &http.Client{Timeout: refusalBound}, replicas[0].addr, replicas[1].addr)
	ctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); load.run(ctx, 4, 20*time.Millisecond) }()
	t.Cleanup(func() { stopLoad(); <-loadDone })

	time.Sleep(3 * time.Second) // steady load first
	leaderKill, failover, catchUp := killStreamLeader(t, js, nodes)
	time.Sleep(3 * time.Second)
	replicaKill := fault{name: "auditbus replica b", at: time.Now(), replicas: []int{1}}
	replicas[1].kill(t)
	time.Sleep(3 * time.Second) // the survivor takes the load and the work
	replicas[1].startReady(t)
	replicaDown := time.Since(replicaKill.at)
	time.Sleep(3 * time.Second)
	stopLoad()
	<-loadDone

	answers := load.results()
	accepted := map[string]bool{}
	for _, a := range answers {
		if a.status == http.StatusAccepted {
			accepted[a.id] = true
		}
	}
	if len(accepted) == 0 {
		t.Fatalf("no event accepted: %s", answerKinds(answers))
	}
	var delivered map[string]int
	waitWithin(t, 2*time.Minute, "every accepted event delivered", func() (bool, string) {
		delivered = hook.ids()
		missing := 0
		for id := range accepted {
			if delivered[id] == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d accepted events not delivered", missing, len(accepted))
	})
	for _, r := range replicas {
		waitWithin(t, time.Minute, r.name+" ready after the kills", r.ready)
	}
	bustest.WaitSettled(t, js, bus.StreamName, dispatch.ConsumerName, time.Minute)
	checkNoDeadLetters(t, js)
	delivered = hook.ids()
	duplicates, unacknowledged := 0, 0
	for id, n := range delivered {
		duplicates += n - 1
		if !accepted[id] {
			unacknowledged++ // stored, but its answer was a refusal or none
		}
	}

	faults := []fault{leaderKill, replicaKill}
	windows, unexplained := refusalWindows(answers, faults)
	for _, a := range unexplained {
		t.Errorf("refused %s on replica %d at %s with no kill to explain it: %d %s %v", a.id, a.replica, a.start.Format(time.RFC3339Nano), a.status, a.code, a.err)
	}
	checkRefusalsClear(t, answers, replicaKill)
	t.Logf("events sent %d, answered 202 %d, delivered %d distinct (%d of them stored though not answered 202), duplicates %d",
		len(answers), len(accepted), len(delivered), unacknowledged, duplicates)
	t.Logf("answers: %s", answerKinds(answers))
	t.Logf("stream leader failover (kill to a new leader reported) %s; restarted node current again after %s", failover.Round(time.Millisecond), catchUp.Round(time.Millisecond))
	t.Logf("auditbus replica b was down %s (killed to ready again); the other replica refused nothing meanwhile", replicaDown.Round(time.Millisecond))
	for _, w := range windows {
		t.Logf("after killing %s: %d refused, longest refused-ingest window %s (per replica %v)", w.fault.name, w.refused, w.longest().Round(time.Millisecond), w.perReplica)
		if w.longest() > refusalBound {
			t.Errorf("after killing %s ingest was refused for %s, more than %s", w.fault.name, w.longest(), refusalBound)
		}
	}
}

// killStreamLeader kill -9s the node that leads the events stream, waits
// for another to lead it, starts the node again and waits until every
// replica is current. It returns the fault and how long the failover and
// the catch-up took.
func killStreamLeader(t *testing.T, js jetstream.JetStream, nodes []*natsNode) (fault, time.Duration, time.Duration) {
	t.Helper()
	leader := eventsStream(t, js).Cluster.Leader
	var node *natsNode
	for _, n := range nodes {
		if strings.HasSuffix(n.name, " "+leader) {
			node = n
		}
	}
	if node == nil {
		t.Fatalf("stream leader %q is none of the nodes", leader)
	}
	f := fault{name: "NATS node " + leader + " (events stream leader)", at: time.Now(), replicas: []int{0, 1}}
	node.kill(t)
	waitWithin(t, refusalBound, "a new events stream leader", func() (bool, string) {
		c := streamCluster(js)
		return c != nil && c.Leader != "" && c.Leader != leader, fmt.Sprintf("%+v", c)
	})
	failover := time.Since(f.at)
	time.Sleep(5 * time.Second) // two nodes carry the load
	restarted := time.Now()
	node.start(t) // on its old ports, which the cluster's routes name
	waitRunning(t, time.Minute, "every events stream replica current after the restart", []*proc{node.proc}, func() (bool, string) {
		c := streamCluster(js)
		if c == nil || c.Leader == "" || len(c.Replicas) != 2 {
			return false, fmt.Sprintf("%+v", c)
		}
		for _, p := range c.Replicas {
			if !p.Current || p.Offline {
				return false, fmt.Sprintf("replica %s current %v offline %v lag %d", p.Name, p.Current, p.Offline, p.Lag)
			}
		}
		return true, ""
	})
	return f, failover, time.Since(restarted)
}

// streamCluster is the events stream's cluster state, nil while no
// leader answers.
func streamCluster(js jetstream.JetStream) *jetstream.ClusterInfo {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		return nil
	}
	return st.CachedInfo().Cluster
}

func eventsStream(t *testing.T, js jetstream.JetStream) *jetstream.StreamInfo {
	t.Helper()
	var info *jetstream.StreamInfo
	waitWithin(t, refusalBound, "events stream info with a leader", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st, err := js.Stream(ctx, bus.StreamName)
		if err != nil {
			return false, err.Error()
		}
		info = st.CachedInfo()
		return info.Cluster != nil && info.Cluster.Leader != "", fmt.Sprintf("%+v", info.Cluster)
	})
	return info
}

// checkNoDeadLetters: the webhook accepted everything, so no delivery may
// have been dead-lettered, and every queued delivery must be done.
func checkNoDeadLetters(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	waitWithin(t, time.Minute, "deliveries queue empty", func() (bool, string) {
		n, err := streamMsgCount(js, bus.DeliveriesStream)
		return err == nil && n == 0, fmt.Sprint(n, err)
	})
	n, err := streamMsgCount(js, bus.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d dead letters, want none: the webhook accepted every delivery", n)
	}
}

func streamMsgCount(js jetstream.JetStream, stream string) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	return info.State.Msgs, nil
}

// checkRefusalsClear: an HTTP refusal is a 503 with Retry-After and an
// error code; no answer at all happens only at the killed auditbus
// process and never because the request hung.
func checkRefusalsClear(t *testing.T, answers []ingestAnswer, replicaKill fault) {
	t.Helper()
	for _, a := range answers {
		switch {
		case !a.refused():
		case a.err != nil:
			var ne net.Error
			if errors.As(a.err, &ne) && ne.Timeout() {
				t.Errorf("%s to replica %d hung for %s: %v", a.id, a.replica, a.end.Sub(a.start), a.err)
			} else if !slices.Contains(replicaKill.replicas, a.replica) || a.end.Before(replicaKill.at) {
				t.Errorf("%s to replica %d: no answer though that process was not killed: %v", a.id, a.replica, a.err)
			}
		case a.status != http.StatusServiceUnavailable || a.retryAfter == "" || a.code == "":
			t.Errorf("%s refused with %d (error_code %q, Retry-After %q), want 503 with an error code and Retry-After", a.id, a.status, a.code, a.retryAfter)
		}
	}
}
