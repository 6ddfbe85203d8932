package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/replay"
)

// TestReplayCommands: replay run reports a what-if through the live
// rules and a draft's diff against them; list, status and cancel answer;
// mistakes exit 2 and the server's refusals 1 with its code.
func TestReplayCommands(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "rules.yaml")
	draft := filepath.Join(dir, "draft.yaml")
	rule := "name: %s\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n  - id: out\n    log: {}\n"
	if err := os.WriteFile(live, []byte(strings.Replace(rule, "%s", "deletes", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(draft, []byte(strings.Replace(rule, "%s", "draft-deletes", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Rules: []string{live}, Log: zerolog.Nop(), Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	url := "http://" + srv.Addr()
	if code, out, errOut := cli(t, context.Background(), "publish", "--url", url, "--file", "../../examples/events/tke-delete-cluster.json"); code != 0 {
		t.Fatalf("publish: exit %d: %s %s", code, out, errOut)
	}
	span := []string{"--url", url, "--from", "2021-03-11T02:00:00Z", "--to", "2021-03-11T03:00:00Z"}
	code, out, errOut := cli(t, context.Background(), append([]string{"replay", "run"}, span...)...)
	if code != 0 || !strings.Contains(out, ": done (what-if, bus default, stream") || !strings.Contains(out, "read 1, in range 1, matched 1") ||
		!strings.Contains(out, "deletes  out     1") {
		t.Errorf("replay run: exit %d:\n%s%s", code, out, errOut)
	}
	code, out, errOut = cli(t, context.Background(), append([]string{"replay", "run", "--rules", draft, "--json"}, span...)...)
	var st replay.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Report == nil || st.Report.Both != 1 || len(st.Report.Targets) != 2 {
		t.Fatalf("replay run --rules: exit %d:\n%s%s", code, out, errOut)
	}
	for _, sub := range []string{"status", "cancel"} {
		code, out, errOut = cli(t, context.Background(), "replay", sub, "--url", url, st.ID)
		if code != 0 || !strings.Contains(out, st.ID+": done") || !strings.Contains(out, "by both 1") {
			t.Errorf("replay %s: exit %d:\n%s%s", sub, code, out, errOut)
		}
	}
	if code, out, _ = cli(t, context.Background(), "replay", "list", "--url", url, "--json"); code != 0 || strings.Count(out, `"id":"rp-`) != 2 {
		t.Errorf("replay list: exit %d: %s", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"replay", "run", "--url", url}, 2, "replay run needs --from"},
		{[]string{"replay", "run", "--url", url, "--from", "yesterday"}, 2, `--from: "yesterday": want an RFC 3339 time`},
		{[]string{"replay", "run", "--url", url, "--from", "1h", "--to", "2h"}, 1, "AB.1030"},
		{[]string{"replay", "status", "--url", url, "rp-nosuch"}, 1, "AB.4047"},
	} {
		code, _, errOut := cli(t, context.Background(), c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.msg)
		}
	}
}

// TestReplayRunInterruptDuringPoll: an interrupt while a status poll is
// in flight cancels the replay and prints the status the cancel answers.
func TestReplayRunInterruptDuringPoll(t *testing.T) {
	polling := make(chan struct{}, 1)
	cancelled := make(chan struct{}, 1)
	status := func(state string) []byte {
		b, _ := json.Marshal(replay.Status{ID: "rp-1", State: state, Bus: "default", Mode: replay.ModeWhatIf, Source: "stream"})
		return b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/replays":
			_, _ = w.Write(status(replay.StateRunning))
		case r.Method == http.MethodGet && r.URL.Path == "/v1/replays/rp-1":
			polling <- struct{}{}
			<-r.Context().Done() // the poll is in flight until the client gives up
		case r.Method == http.MethodPost && r.URL.Path == "/v1/replays/rp-1:cancel":
			cancelled <- struct{}{}
			_, _ = w.Write(status(replay.StateCancelled))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, interrupt := context.WithCancel(context.Background())
	go func() { <-polling; interrupt() }()
	code, out, errOut := cli(t, ctx, "replay", "run", "--url", srv.URL, "--from", "1h")
	if len(cancelled) != 1 || code != 0 || !strings.Contains(out, "replay rp-1: cancelled") {
		t.Errorf("cancel calls %d, exit %d:\n%s%s", len(cancelled), code, out, errOut)
	}
}
