package router_test

import (
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

// TestCheckConfigExternalNATSFiles: CheckConfig reads the NATS files that
// nats.go would read only when it connects (creds, CA, client pair), so a
// good set passes and each broken one is refused with ErrClientAuth naming
// its flag; and it creates no data dir.
func TestCheckConfigExternalNATSFiles(t *testing.T) {
	dir := t.TempDir()
	account, _ := nkeys.CreateAccount()
	accPub, _ := account.PublicKey()
	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	uc := jwt.NewUserClaims(userPub)
	uc.IssuerAccount = accPub
	userJWT, err := uc.Encode(account)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	creds, _ := jwt.FormatUserConfig(userJWT, seed)
	ca := newTestCA(t, "nats-ca")
	clientCert, clientKey := ca.issue(t, pkix.Name{CommonName: "auditbus"}, false)
	good := bus.ClientAuth{
		CredsFile: writeFile(t, filepath.Join(dir, "auditbus.creds"), creds),
		CAFile:    writeFile(t, filepath.Join(dir, "ca.pem"), ca.pem),
		CertFile:  writeFile(t, filepath.Join(dir, "client.pem"), clientCert),
		KeyFile:   writeFile(t, filepath.Join(dir, "client.key"), clientKey),
	}
	notPEM := writeFile(t, filepath.Join(dir, "not.pem"), []byte("not PEM\n"))
	data := filepath.Join(dir, "data")
	cfg := func(a bus.ClientAuth) router.Config {
		return router.Config{DataDir: data, NATSURL: "nats://127.0.0.1:4222", NATSAuth: a, Stream: bus.StreamConfig{Replicas: 3}}
	}
	sum, err := router.CheckConfig(cfg(good))
	if err != nil {
		t.Fatalf("good files: %v", err)
	}
	if got := strings.Join(sum, "\n"); !strings.Contains(got, "creds "+good.CredsFile+", TLS), stream replicas 3; not dialled") {
		t.Errorf("summary does not describe the connection:\n%s", got)
	}
	for name, tc := range map[string]struct {
		edit func(*bus.ClientAuth)
		want string
	}{
		"creds without a JWT": {func(a *bus.ClientAuth) { a.CredsFile = notPEM }, "--nats-creds " + notPEM},
		"CA not PEM":          {func(a *bus.ClientAuth) { a.CAFile = notPEM }, "--nats-ca " + notPEM + ": no PEM certificate"},
		"client key not PEM":  {func(a *bus.ClientAuth) { a.KeyFile = notPEM }, "--nats-cert/--nats-key"},
		"client key missing":  {func(a *bus.ClientAuth) { a.KeyFile = filepath.Join(dir, "none") }, "--nats-key"},
	} {
		t.Run(name, func(t *testing.T) {
			a := good
			tc.edit(&a)
			_, err := router.CheckConfig(cfg(a))
			if !errors.Is(err, bus.ErrClientAuth) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrClientAuth saying %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CheckConfig made the data dir: %v", err)
	}
}

// TestCheckConfigLeavesNothingBehind: CheckConfig proves the data dir
// writable with a probe file it removes, so an existing data dir, and the
// parent of one to be made, hold after it exactly what they held before.
func TestCheckConfigLeavesNothingBehind(t *testing.T) {
	for name, data := range map[string]func(root string) string{
		"existing data dir": func(root string) string { return root },
		"data dir to make":  func(root string) string { return filepath.Join(root, "a", "b") },
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "kept"), []byte("x"))
			if _, err := router.CheckConfig(router.Config{DataDir: data(root), NATSListen: "-"}); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(root)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "kept" {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("after CheckConfig %s holds %q, want only [kept]", root, names)
			}
		})
	}
}
