package router_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/replay"
)

// freshEvent is auditEvent happening now, so a replay of the last hour
// finds it.
func sendFresh(t *testing.T, s *router.Server, id string) {
	t.Helper()
	e := auditEvent(t, id, "DeleteCluster", 0)
	e.SetTime(time.Now())
	body, _ := json.Marshal(e)
	if status, answer := post(t, s, "application/cloudevents+json", body, nil); status != http.StatusAccepted {
		t.Fatalf("post %s: %d %v", id, status, answer)
	}
}

// startReplay posts a replay of the last hour and returns its id.
func startReplay(t *testing.T, s *router.Server, extra string) string {
	t.Helper()
	body := fmt.Sprintf(`{"from":%q,"to":%q%s}`, time.Now().Add(-time.Hour).Format(time.RFC3339Nano), time.Now().Format(time.RFC3339Nano), extra)
	status, _, answer := call(t, s, "POST", "/v1/replays", "application/json", []byte(body), nil)
	if status != http.StatusOK {
		t.Fatalf("POST /v1/replays: %d %v", status, answer)
	}
	return answer["id"].(string)
}

func replayState(t *testing.T, s *router.Server, id string) map[string]any {
	t.Helper()
	status, _, answer := call(t, s, "GET", "/v1/replays/"+id, "", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET replay: %d %v", status, answer)
	}
	return answer
}

// TestReplayDeliversMarked: a deliver replay through the live rules sends
// the events again to the rule's webhook, each marked with the replay's
// id in the ce-replayed header; the live deliveries carry no mark.
func TestReplayDeliversMarked(t *testing.T) {
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(hook.URL)))
	for i := range 5 {
		sendFresh(t, s, fmt.Sprintf("mark-%d", i))
	}
	settled(t, s)
	id := startReplay(t, s, `,"mode":"deliver"`)
	waitFor(t, "replay done", func() (bool, string) {
		st := replayState(t, s, id)
		return st["state"] == replay.StateDone, fmt.Sprint(st)
	})
	hook.mu.Lock()
	defer hook.mu.Unlock()
	marks := map[string]int{}
	for _, r := range hook.got {
		marks[ceHeader(r.header, "Ce-Replayed")]++
	}
	if marks[""] != 5 || marks[id] != 5 || len(marks) != 2 {
		t.Errorf("deliveries by mark %v, want 5 unmarked and 5 marked %s", marks, id)
	}
}

// TestReplayKeepsLiveFlowing: while a big replay to the same target has
// every one of its delivery slots held by the target, live events are
// still delivered, and the replay delivered nothing meanwhile.
func TestReplayKeepsLiveFlowing(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	held := make(chan struct{}, 10000)
	hook := newWebhook(t, func(r *http.Request) int {
		if r.Header.Get("Ce-Replayed") != "" {
			held <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		return http.StatusOK
	})
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(hook.URL)))
	const big = 400
	events := make([]string, 0, big)
	for i := range big {
		e := auditEvent(t, fmt.Sprintf("big-%d", i), "DeleteCluster", 0)
		e.SetTime(time.Now())
		b, _ := json.Marshal(e)
		events = append(events, string(b))
	}
	for i := 0; i < big; i += 100 {
		body := "[" + strings.Join(events[i:i+100], ",") + "]"
		if status, answer := post(t, s, "application/cloudevents-batch+json", []byte(body), nil); status != http.StatusAccepted {
			t.Fatalf("post batch: %d %v", status, answer)
		}
	}
	settled(t, s)
	id := startReplay(t, s, `,"mode":"deliver","concurrency":2`)
	<-held
	<-held // the replay's two slots are taken
	sendFresh(t, s, "live-during-replay")
	waitFor(t, "live delivery during the replay", func() (bool, string) {
		_, ok := hook.byID("live-during-replay")
		return ok, fmt.Sprint(len(hook.ids()), " ids delivered")
	})
	st := replayState(t, s, id)
	if st["state"] != replay.StateRunning || st["progress"].(map[string]any)["delivered"].(float64) != 0 {
		t.Errorf("replay meanwhile: %v", st)
	}
	status, _, answer := call(t, s, "POST", "/v1/replays/"+id+":cancel", "", nil, nil)
	if status != http.StatusOK || answer["state"] != replay.StateCancelled {
		t.Errorf("cancel: %d %v", status, answer)
	}
}

// TestReplayBadInput: bad requests are answered with their code and
// what is wrong, and start nothing.
func TestReplayBadInput(t *testing.T) {
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule("http://127.0.0.1:1/")))
	sendFresh(t, s, "bad-1")
	now := time.Now()
	rng := func(from, to time.Time) string {
		return fmt.Sprintf(`"from":%q,"to":%q`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	ok := rng(now.Add(-time.Hour), now.Add(time.Minute))
	cases := []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"inverted", "{" + rng(now, now.Add(-time.Hour)) + "}", 400, "AB.1030", "is not before to"},
		{"unknown field", `{"form":"x"}`, 400, "AB.1001", `unknown field "form"`},
		{"mode", "{" + ok + `,"mode":"maybe"}`, 400, "AB.1030", `mode "maybe"`},
		{"lateness", "{" + ok + `,"lateness":"soon"}`, 400, "AB.1030", `lateness "soon"`},
		{"bus", "{" + ok + `,"bus":"Bad_Bus"}`, 400, "AB.1030", `bus "Bad_Bus"`},
		{"draft", "{" + ok + `,"rules":"name: r\npattern: {source: [x]}\ntargets:\n  - id: t\n    nosuch: {}\n"}`, 400, "AB.1007", "5:"},
		{"empty draft", "{" + ok + `,"rules":" "}`, 400, "AB.1030", "the draft rule set is empty"},
		{"unknown bus", "{" + ok + `,"bus":"nosuch"}`, 404, "AB.4048", `bus "nosuch" has no live rules`},
		{"unknown tracker", "{" + ok + `,"tracker":"nosuch"}`, 404, "AB.4048", `no tracker "nosuch"`},
	}
	for _, c := range cases {
		status, _, answer := call(t, s, "POST", "/v1/replays", "application/json", []byte(c.body), nil)
		msg, _ := answer["error_msg"].(string)
		if status != c.status || answer["error_code"] != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %v, want %d %s containing %q", c.name, status, answer, c.status, c.code, c.msg)
		}
	}
	if status, _, answer := call(t, s, "GET", "/v1/replays/rp-nosuch", "", nil, nil); status != 404 || answer["error_code"] != "AB.4047" {
		t.Errorf("unknown replay: %d %v", status, answer)
	}
	if _, _, answer := call(t, s, "GET", "/v1/replays", "", nil, nil); len(answer["replays"].([]any)) != 0 {
		t.Errorf("refused requests started replays: %v", answer)
	}
}

// TestReplayBusLimited: an identity limited to a bus replays only that
// bus, and not a tracker's archive, which holds every bus.
func TestReplayBusLimited(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	now := time.Now()
	body := func(extra string) []byte {
		return []byte(fmt.Sprintf(`{"from":%q,"to":%q%s}`, now.Add(-time.Hour).Format(time.RFC3339), now.Format(time.RFC3339), extra))
	}
	for _, c := range []struct{ extra, msg string }{
		{`,"bus":"default"`, "prod"},
		{`,"tracker":"system"`, "a tracker's archive holds the events of every bus"},
	} {
		status, _, answer := call(t, s, "POST", "/v1/replays", "application/json", body(c.extra), bearer(prodToken))
		if msg, _ := answer["error_msg"].(string); status != http.StatusForbidden || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %v", c.extra, status, answer)
		}
	}
	if status, _, _ := call(t, s, "GET", "/v1/replays", "", nil, bearer(outsiderToken)); status != http.StatusForbidden {
		t.Errorf("GET /v1/replays without replays:read: %d", status)
	}
}

// TestReplayArchiveNotForBusLimited: an archive replay of bus prod, whose
// report holds events of every bus, is not shown to, nor cancellable by,
// an identity limited to prod, which sees its own stream replay of prod;
// an identity of every bus sees both, and the empty archive's warning
// does not name the server's bucket directory.
func TestReplayArchiveNotForBusLimited(t *testing.T) {
	bucketDir := t.TempDir()
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.AuthFile = writeAuthFile(t, "")
		c.Buckets = map[string]string{"logs": bucketDir}
	})
	admin, prod := bearer(adminToken), bearer(prodToken)
	if status, _, answer := call(t, s, "POST", "/v3/p1/tracker", "application/json",
		[]byte(`{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"logs"}}`), admin); status != http.StatusCreated {
		t.Fatalf("create tracker: %d %v", status, answer)
	}
	e := auditEvent(t, "prod-1", "DeleteCluster", 0)
	e.SetTime(time.Now())
	event, _ := json.Marshal(e)
	if status, _, answer := call(t, s, "POST", "/v1/events?bus=prod", "application/cloudevents+json", event, admin); status != http.StatusAccepted {
		t.Fatalf("publish: %d %v", status, answer)
	}
	now := time.Now()
	span := fmt.Sprintf(`"from":%q,"to":%q,"bus":"prod"`, now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Minute).Format(time.RFC3339))
	started := map[string]string{}
	for who, c := range map[string]struct {
		body string
		h    http.Header
	}{"archive": {`{` + span + `,"tracker":"system"}`, admin}, "stream": {`{` + span + `}`, prod}} {
		status, _, answer := call(t, s, "POST", "/v1/replays", "application/json", []byte(c.body), c.h)
		if status != http.StatusOK {
			t.Fatalf("start %s replay: %d %v", who, status, answer)
		}
		started[who] = answer["id"].(string)
	}
	archiveID := started["archive"]
	for _, c := range []struct{ method, path string }{{"GET", "/v1/replays/" + archiveID}, {"POST", "/v1/replays/" + archiveID + ":cancel"}} {
		status, _, answer := call(t, s, c.method, c.path, "", nil, prod)
		if msg, _ := answer["error_msg"].(string); status != http.StatusForbidden || !strings.Contains(msg, "a tracker's archive holds the events of every bus") {
			t.Errorf("prod %s %s: %d %v", c.method, c.path, status, answer)
		}
	}
	listed := func(h http.Header) []string {
		_, _, answer := call(t, s, "GET", "/v1/replays", "", nil, h)
		var ids []string
		for _, r := range answer["replays"].([]any) {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		return ids
	}
	if ids := listed(prod); len(ids) != 1 || ids[0] != started["stream"] {
		t.Errorf("prod lists %v, want only its stream replay %s", ids, started["stream"])
	}
	if ids := listed(admin); len(ids) != 2 {
		t.Errorf("admin lists %v, want both", ids)
	}
	waitFor(t, "archive replay done", func() (bool, string) {
		_, _, st := call(t, s, "GET", "/v1/replays/"+archiveID, "", nil, admin)
		return st["state"] == replay.StateDone, fmt.Sprint(st)
	})
	_, _, st := call(t, s, "GET", "/v1/replays/"+archiveID, "", nil, admin)
	if warnings := fmt.Sprint(st["warnings"]); !strings.Contains(warnings, "has archived no file") || strings.Contains(warnings, bucketDir) {
		t.Errorf("warnings %s: want the empty archive's, without %s", warnings, bucketDir)
	}
}
