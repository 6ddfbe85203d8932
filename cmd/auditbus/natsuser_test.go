package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/auditbus/auditbus/router/bus"
)

func TestNATSUserPasswordEntry(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runNATSUser(context.Background(), []string{"--name", "siem", "--subject", "alerts.>"}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	m := regexp.MustCompile(`(?m)^# password for siem \(shown once, not stored\): (\S+)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no password in:\n%s", out.String())
	}
	users := parseEntry(t, out.String())
	if users[0].Name != "siem" || users[0].Subjects[0] != "alerts.>" || strings.Contains(out.String(), "nkey:") {
		t.Fatalf("entry %+v", users[0])
	}
	if err := bcrypt.CompareHashAndPassword([]byte(users[0].PasswordHash), []byte(m[1])); err != nil {
		t.Fatalf("the printed password does not match the hash: %v", err)
	}
}

func TestNATSUserNkeyEntry(t *testing.T) {
	seedFile := filepath.Join(t.TempDir(), "tool.nk")
	var out, errOut bytes.Buffer
	if err := runNATSUser(context.Background(), []string{"--name", "tool", "--nkey-seed-out", seedFile}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	users := parseEntry(t, out.String())
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(seed))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	if users[0].Nkey != pub || users[0].PasswordHash != "" {
		t.Fatalf("entry %+v, seed's key %s", users[0], pub)
	}
	if st, _ := os.Stat(seedFile); st.Mode().Perm() != 0o600 {
		t.Fatalf("seed file mode %v", st.Mode().Perm())
	}
	// An existing file is never overwritten.
	if err := runNATSUser(context.Background(), []string{"--name", "tool", "--nkey-seed-out", seedFile}, &out, &errOut); err == nil {
		t.Fatal("overwrote the seed file")
	}
}

func TestNATSUserRefusesABadName(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runNATSUser(context.Background(), []string{"--name", "auditbus"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "auditbus's own user") {
		t.Fatalf("got %v", err)
	}
}

// parseEntry reads the printed entry the way serve reads the users file.
func parseEntry(t *testing.T, out string) []bus.SubscriberUser {
	t.Helper()
	var body []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "#") {
			body = append(body, "  "+line)
		}
	}
	users, err := bus.ParseUsers("out", []byte("users:\n"+strings.Join(body, "\n")))
	if err != nil || len(users) != 1 {
		t.Fatalf("%v %v in:\n%s", users, err, out)
	}
	return users
}
