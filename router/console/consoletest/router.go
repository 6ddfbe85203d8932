package consoletest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
)

// Tokens of the test identities Start's auth file holds.
const (
	AdminToken  = "abt_console-admin-token"  // every action
	ViewerToken = "abt_console-viewer-token" // metrics:read and rules:read only
	ProdToken   = "abt_console-prod-token"   // every action, bus prod only
	TesterToken = "abt_console-tester-token" // rules:read and rules:test only
)

// Options configure Start.
type Options struct {
	// AuthOff runs without an auth file: no sign-in.
	AuthOff bool
	// Rules are rule files' contents, one file each.
	Rules []string
	// Mutate changes the config last.
	Mutate func(*router.Config)
}

// Router is a running auditbus and its console's address.
type Router struct {
	*router.Server
	// URL is the server's base URL, "http://127.0.0.1:port".
	URL string
	// Console is URL + "/console/".
	Console string
}

// Start runs auditbus with the console, stopping it with t.Cleanup.
func Start(t testing.TB, o Options) *Router {
	t.Helper()
	dir := t.TempDir()
	cfg := router.Config{
		Listen:              "127.0.0.1:0",
		DataDir:             filepath.Join(dir, "data"),
		NATSListen:          "-",
		ShutdownGrace:       time.Second,
		Log:                 zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Stdout:              io.Discard,
		AllowPrivateTargets: true,
		AuthFailureRate:     -1, // the tests sign in with wrong tokens on purpose
	}
	for i, doc := range o.Rules {
		p := filepath.Join(dir, fmt.Sprintf("rules-%d.yaml", i))
		write(t, p, doc)
		cfg.Rules = append(cfg.Rules, p)
	}
	if !o.AuthOff {
		cfg.AuthFile = filepath.Join(dir, "auth.yaml")
		write(t, cfg.AuthFile, authFile())
	}
	if o.Mutate != nil {
		o.Mutate(&cfg)
	}
	s, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start auditbus: %v", err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	base := "http://" + s.Addr()
	return &Router{Server: s, URL: base, Console: base + "/console/"}
}

func authFile() string {
	return fmt.Sprintf(`identities:
  - name: admin
    tokens: [%q]
    actions: ["*"]
  - name: viewer
    tokens: [%q]
    actions: [metrics:read, rules:read]
  - name: prod-team
    tokens: [%q]
    actions: ["*"]
    buses: [prod]
  - name: tester
    tokens: [%q]
    actions: [rules:read, rules:test]
`, auth.HashToken(AdminToken), auth.HashToken(ViewerToken), auth.HashToken(ProdToken), auth.HashToken(TesterToken))
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
