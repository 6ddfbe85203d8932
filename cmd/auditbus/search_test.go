package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// searchServer is auditbus with events of every source indexed.
func searchServer(t *testing.T) (string, int) {
	t.Helper()
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Log: zerolog.Nop(), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	evs := indextest.Events(t, 30, time.Now().Add(-time.Hour))
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range evs {
		raw, _ := cejson.Marshal(&evs[i])
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(raw)
	}
	b.WriteByte(']')
	resp, err := http.Post("http://"+srv.Addr()+"/v1/events", "application/cloudevents-batch+json", &b)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("publish: %v %v", resp, err)
	}
	resp.Body.Close()
	waitUntil(t, "indexed", func() bool {
		n, _ := srv.Index().Count(context.Background(), index.Query{})
		return n == 30
	})
	alice := 0
	for _, e := range evs {
		if e.Extensions()["principal"] == "alice" {
			alice++
		}
	}
	return "http://" + srv.Addr(), alice
}

func TestSearchCommand(t *testing.T) {
	base, alice := searchServer(t)
	search := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"search", "--url", base}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := search("--principal", "alice", "--since", "2h", "--json", "--limit", "1000")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != alice {
		t.Fatalf("search --principal alice --json: exit %d, %d lines, want %d; %s", code, len(lines), alice, errOut)
	}
	var last time.Time
	for i, l := range lines {
		var h struct {
			Event struct {
				Principal string    `json:"principal"`
				Time      time.Time `json:"time"`
			} `json:"event"`
		}
		if err := json.Unmarshal([]byte(l), &h); err != nil || h.Event.Principal != "alice" {
			t.Fatalf("line %q: %v", l, err)
		}
		if i > 0 && h.Event.Time.After(last) {
			t.Errorf("line %d is newer than the one before it", i)
		}
		last = h.Event.Time
	}
	// Pages of at most --limit: 3 rows and the header.
	if code, out, _ := search("--limit", "3"); code != 0 || strings.Count(out, "\n") != 4 || !strings.HasPrefix(out, "TIME ") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	pattern := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(pattern, []byte("kind: [K8sAudit]\nprincipal: [alice]\n"), 0o644)
	code, out, errOut = search("--pattern", pattern, "--json")
	if n := strings.Count(out, "\n"); code != 0 || n == 0 || n >= alice || strings.Contains(out, `"kind":"ApiCall"`) {
		t.Errorf("--pattern: exit %d, %d lines (alice has %d events): %s %s", code, n, alice, out, errOut)
	}
	if code, _, errOut := search("--since", "yesterday"); code != 1 || !strings.Contains(errOut, "--since") {
		t.Errorf("--since yesterday: exit %d, %s", code, errOut)
	}
}
