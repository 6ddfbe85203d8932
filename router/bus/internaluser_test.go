package bus

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadInternalUserRefusesBadSeeds(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"garbage", "not a seed\n", "not an nkey user seed"},
		{"empty", "", "not an nkey user seed"},
		{"account seed", "SAAGNJQHRQHL6XBM5LM7RDRRBXZAFQOBYLFAWVYLCQV3E46RMMTUCSCYNI\n", "not an nkey user seed"},
		{"damaged user seed", "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTCX\n", "malformed nkey seed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "nats"), 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "nats", "auditbus.nk")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadInternalUser(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s saying %q", err, path, tc.want)
			}
			if got, _ := os.ReadFile(path); string(got) != tc.content {
				t.Fatal("the bad seed was replaced")
			}
		})
	}
}

func TestLoadInternalUserGeneratesOnceAndChecksModes(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadInternalUser(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadInternalUser(dir)
	if err != nil || again.Public() != first.Public() || !strings.HasPrefix(first.Public(), "U") {
		t.Fatalf("second load: %v, %q vs %q", err, again.Public(), first.Public())
	}
	if err := os.Chmod(first.SeedFile, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadInternalUser(dir); !errors.Is(err, ErrCredentialsExposed) || !strings.Contains(err.Error(), "chmod 0600") {
		t.Fatalf("group-readable seed: %v", err)
	}
}

func TestClientAuthRefusals(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name string
		auth ClientAuth
		want string
	}{
		{"two methods", ClientAuth{CredsFile: empty, User: "u", Password: "p"}, "give one of"},
		{"user without password", ClientAuth{User: "u"}, "needs --nats-password-file or AUDITBUS_NATS_PASSWORD"},
		{"password without user", ClientAuth{Password: "p"}, "needs --nats-user"},
		{"empty password file", ClientAuth{User: "u", PasswordFile: empty}, "is empty"},
		{"missing password file", ClientAuth{User: "u", PasswordFile: missing}, "--nats-password-file"},
		{"missing creds", ClientAuth{CredsFile: missing}, "--nats-creds"},
		{"missing nkey seed", ClientAuth{NkeySeedFile: missing}, "--nats-nkey"},
		{"cert without key", ClientAuth{CertFile: empty}, "go together"},
		{"missing CA", ClientAuth{CAFile: missing}, "--nats-ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.auth.Options()
			if !errors.Is(err, ErrClientAuth) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrClientAuth saying %q", err, tc.want)
			}
		})
	}
}
