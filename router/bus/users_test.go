package bus

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

const (
	testHash = "$2a$04$lpr38jojkP7Yke.Ue9VDMuMYqAL1QFtDzt2fjQ7gmhA8TtTgBpFUi"
	testNkey = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"
)

func TestParseUsersAcceptsTheDocumentedForm(t *testing.T) {
	users, err := LoadUsersFile(filepath.Join("testdata", "users.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Name != "siem" || users[1].Nkey != testNkey || users[1].Subjects[0] != "alerts.>" {
		t.Fatalf("users %+v", users)
	}
	if bcrypt.CompareHashAndPassword([]byte(users[0].PasswordHash), []byte("test")) != nil {
		t.Fatal("the hash in testdata is not of the password test")
	}
}

func TestParseUsersRefusals(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"plain password", "users:\n  - name: a\n    password_bcrypt: hunter2\n", "x.yaml:2: user 1 (\"a\"): password_bcrypt is not a bcrypt hash"},
		{"no credential", "users:\n  - name: a\n", "needs password_bcrypt or nkey"},
		{"both credentials", "users:\n  - name: a\n    password_bcrypt: \"" + testHash + "\"\n    nkey: " + testNkey + "\n", "has both"},
		{"seed for a key", "users:\n  - name: a\n    nkey: SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4\n", "nkey is not a user public key"},
		{"account key", "users:\n  - name: a\n    nkey: ADXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4\n", "nkey is not a user public key"},
		{"reserved name", "users:\n  - name: auditbus\n    nkey: " + testNkey + "\n", "auditbus's own user"},
		{"bad name", "users:\n  - name: \"a b\"\n    nkey: " + testNkey + "\n", "name must be"},
		{"duplicate name", "users:\n  - name: a\n    nkey: " + testNkey + "\n  - name: a\n    password_bcrypt: \"" + testHash + "\"\n", "x.yaml:4: user 2 (\"a\"): name is used by an earlier user"},
		{"duplicate nkey", "users:\n  - name: a\n    nkey: " + testNkey + "\n  - name: b\n    nkey: " + testNkey + "\n", "nkey is used by an earlier user"},
		{"unknown field", "users:\n  - name: a\n    password: x\n", "field password not found"},
		{"KV subject", "users:\n  - name: a\n    nkey: " + testNkey + "\n    subjects: [\"$KV.>\"]\n", "belong to the server"},
		{"inbox subject", "users:\n  - name: a\n    nkey: " + testNkey + "\n    subjects: [\"_AUDITBUS_INBOX.>\"]\n", "belong to the server"},
		{"wildcard first", "users:\n  - name: a\n    nkey: " + testNkey + "\n    subjects: [\"*.x\"]\n", "first token must be literal"},
		{"everything", "users:\n  - name: a\n    nkey: " + testNkey + "\n    subjects: [\">\"]\n", "first token must be literal"},
		{"auditbus subject", "users:\n  - name: a\n    nkey: " + testNkey + "\n    subjects: [auditbus.dlq.>]\n", "auditbus's own"},
		{"invalid subject", "users:\n  - name: a\n    nkey: " + testNkey + "\n    subjects: [\"a..b\"]\n", "not a valid NATS subject"},
		{"not YAML", "users: [\n", "x.yaml"},
		{"not a list", "users: 3\n", "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, err := ParseUsers("x.yaml", []byte(tc.yaml))
			if !errors.Is(err, ErrUsersFile) || !strings.Contains(err.Error(), tc.want) || users != nil {
				t.Fatalf("got %v, %v; want an ErrUsersFile saying %q", users, err, tc.want)
			}
		})
	}
}

func TestParseUsersEmptyMeansNone(t *testing.T) {
	for _, src := range []string{"", "users: []\n", "# nobody yet\n"} {
		users, err := ParseUsers("x.yaml", []byte(src))
		if err != nil || len(users) != 0 {
			t.Fatalf("%q: %v %v", src, users, err)
		}
	}
}

// FuzzParseUsers: any input is either refused or yields users that pass
// every check, so the server is never configured with a bad entry.
func FuzzParseUsers(f *testing.F) {
	seed, _ := os.ReadFile(filepath.Join("testdata", "users.yaml"))
	f.Add(seed)
	f.Add([]byte("users:\n  - name: a\n    subjects: [\"$KV.>\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ParseUsers("f.yaml", data)
		if err != nil {
			return
		}
		names, keys := map[string]bool{}, map[string]bool{}
		for _, u := range users {
			if why := checkUser(u, names, keys); len(why) > 0 {
				t.Fatalf("accepted %+v: %v", u, why)
			}
			for _, s := range u.Subjects {
				if strings.HasPrefix(s, "$") || strings.HasPrefix(s, "_") || strings.HasPrefix(s, "auditbus") && (s == "auditbus" || strings.HasPrefix(s, "auditbus.")) {
					t.Fatalf("accepted subject %q", s)
				}
			}
		}
	})
}
