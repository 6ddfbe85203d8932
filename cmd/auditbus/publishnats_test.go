package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/index"
)

// natsServer is auditbus with its embedded NATS server listening on
// loopback, and the seed of auditbus's own NATS user.
func natsServer(t *testing.T, cfg router.Config) (*router.Server, string) {
	t.Helper()
	cfg.Listen, cfg.DataDir, cfg.NATSListen = "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	cfg.Log, cfg.Stdout = zerolog.Nop(), io.Discard
	srv, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	return srv, filepath.Join(cfg.DataDir, "nats", "auditbus.nk")
}

// busEvents are the indexed events of one bus, oldest first, as stored.
func busEvents(t *testing.T, srv *router.Server, bus string, n int) []string {
	t.Helper()
	q := index.Query{Buses: []string{bus}, Limit: 100}
	waitUntil(t, "events of bus "+bus+" indexed", func() bool {
		c, _ := srv.Index().Count(context.Background(), q)
		return c == int64(n)
	})
	recs, err := srv.Index().Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[len(recs)-1-i] = string(r.Event)
	}
	return out
}

func TestPublishStraightToNATS(t *testing.T) {
	srv, seed := natsServer(t, router.Config{})
	httpURL, natsURL := "http://"+srv.Addr(), srv.NATSClientURL()
	viaNATS := func(args ...string) (int, string, string) {
		return cli(t, context.Background(), append([]string{"publish", "--nats-url", natsURL, "--nats-nkey", seed}, args...)...)
	}
	event := "../../examples/events/tke-delete-cluster.json"
	if code, out, errOut := viaNATS("--file", event); code != 0 || !strings.Contains(out, "published 1 events to bus default on "+natsURL+" (1 new, 0 duplicates)") {
		t.Fatalf("publish --nats-url: exit %d: %s %s", code, out, errOut)
	}
	if code, out, errOut := viaNATS("--file", event); code != 0 || !strings.Contains(out, "(0 new, 1 duplicates)") {
		t.Errorf("second publish --nats-url: exit %d: %s %s", code, out, errOut)
	}
	code, out, errOut := viaNATS("--file", event, "--json")
	var sum publishSummary
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil || sum != (publishSummary{Published: 1, Duplicates: 1, Endpoint: natsURL, Bus: "default"}) {
		t.Errorf("publish --nats-url --json: exit %d, %+v (%v): %s %s", code, sum, err, out, errOut)
	}
	// The HTTP path computes the same dedup id.
	if code, out, errOut := cli(t, context.Background(), "publish", "--url", httpURL, "--file", event); code != 0 || !strings.Contains(out, "0 new, 1 duplicates") {
		t.Errorf("publish over HTTP after NATS: exit %d: %s %s", code, out, errOut)
	}

	// Every format is stored exactly as the HTTP endpoint stores it,
	// redaction included (the CTS records hold secrets).
	for _, tt := range []struct{ format, file string }{
		{"cloudevents", "../../examples/events/ccr-batch-delete-repository.json"},
		{"cloudaudit", "../../examples/records/cloudaudit.json"},
		{"cts", "../../examples/records/cts-traces.json"},
		{"k8s-audit", "../../examples/records/k8s-eventlist.json"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			args := []string{"--format", tt.format, "--cluster", "prod", "--file", tt.file}
			code, out, errOut := cli(t, context.Background(), append([]string{"publish", "--url", httpURL, "--bus", "http-" + tt.format}, args...)...)
			if code != 0 {
				t.Fatalf("over HTTP: exit %d: %s %s", code, out, errOut)
			}
			code, out, errOut = viaNATS(append([]string{"--bus", "nats-" + tt.format}, args...)...)
			if code != 0 || !strings.Contains(out, "0 duplicates") {
				t.Fatalf("over NATS: exit %d: %s %s", code, out, errOut)
			}
			var count int
			if _, err := fmt.Sscanf(out, "published %d events", &count); err != nil {
				t.Fatalf("%q: %v", out, err)
			}
			viaHTTP, viaNats := busEvents(t, srv, "http-"+tt.format, count), busEvents(t, srv, "nats-"+tt.format, count)
			if !slices.Equal(viaHTTP, viaNats) {
				t.Errorf("stored differently:\nHTTP %s\nNATS %s", viaHTTP, viaNats)
			}
			if tt.format == "cts" && strings.Contains(strings.Join(viaNats, ""), "password") && !strings.Contains(strings.Join(viaNats, ""), "[REDACTED]") {
				t.Errorf("secrets not redacted: %s", viaNats)
			}
		})
	}
}

func TestShownNATSURLMasksCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                        "nats://127.0.0.1:4222",
		"nats://u:secret@127.0.0.1:4222":               "nats://***@127.0.0.1:4222",
		"nats://s3cr3t-token@h:4222,tls://a:b@h2:4222": "nats://***@h:4222,tls://***@h2:4222",
		"nats://h1:4222, nats://h2:4222":               "nats://h1:4222, nats://h2:4222",
		"nats://u:p@h:4222/%zz":                        "***",
	} {
		if got := shownNATSURL(in); got != want {
			t.Errorf("shownNATSURL(%q) = %q, want %q", in, got, want)
		}
	}
	// A refused connection names the server without its credentials.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, _, errOut := cli(t, context.Background(), "publish", "--nats-url", "nats://tok3n@"+addr, "--file", "../../examples/events/tke-delete-cluster.json")
	if code == 0 || strings.Contains(errOut, "tok3n") || !strings.Contains(errOut, "nats://***@"+addr) {
		t.Errorf("exit %d, stderr %q: want the server named with its credentials masked", code, errOut)
	}
}

func TestPublishStraightToNATSRefuses(t *testing.T) {
	srv, seed := natsServer(t, router.Config{})
	natsURL := srv.NATSClientURL()
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	os.WriteFile(bad, []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t"}`+"\n"+`{"specversion":"1.0","id":"2","source":"s"}`+"\n"), 0o644)
	for _, tt := range []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"no credentials", []string{"--file", "../../examples/events/tke-delete-cluster.json"}, 1, "Authorization Violation"},
		{"bad event", []string{"--nats-nkey", seed, "--file", bad}, 1, "bad.ndjson:2:1: event 2: attribute \"type\""},
		{"bad bus", []string{"--nats-nkey", seed, "--bus", "A.B", "--file", bad}, 1, `bus "A.B"`},
		{"bad cluster", []string{"--nats-nkey", seed, "--format", "k8s-audit", "--cluster", "a b", "--file", "../../examples/records/k8s-eventlist.json"}, 1, `cluster "a b"`},
		{"two kinds of credentials", []string{"--nats-nkey", seed, "--nats-user", "u", "--file", bad}, 1, "give one of"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, context.Background(), append([]string{"publish", "--nats-url", natsURL}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, want %d; stderr %q, want %q; stdout %s", code, tt.code, errOut, tt.wantErr, out)
			}
		})
	}
	js, _ := jetstream.New(srv.NATS())
	st, err := js.Stream(context.Background(), bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(context.Background()); err != nil || info.State.Msgs != 0 {
		t.Errorf("refused publishes stored %d events (%v)", info.State.Msgs, err)
	}
}
