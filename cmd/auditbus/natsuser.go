package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/router/bus"
)

// natsUserBcryptCost is nats-server's own default cost for hashes.
const natsUserBcryptCost = 11

// runNATSUser prints a new subscriber entry for the --nats-users file:
// with a random password (printed once, stored only as its hash), or with
// --nkey-seed-out, a new nkey whose seed is written to that file (0600).
func runNATSUser(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("nats-user", stderr)
	name := fs.String("name", "", "user name (required)")
	seedOut := fs.String("nkey-seed-out", "", "make an nkey user and write its seed to this new file, instead of a password")
	var subjects listFlag
	subjects.list = new([]string)
	fs.Var(&subjects, "subject", "extra subject the user may subscribe to, e.g. a nats target's (repeatable)")
	asJSON := jsonFlag(fs, "the password or seed file and the entry")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	u := bus.SubscriberUser{Name: *name, Subjects: *subjects.list}
	var secret string
	var err error
	if *seedOut != "" {
		u.Nkey, err = newNkeyUser(*seedOut)
	} else {
		secret, u.PasswordHash, err = newPassword()
	}
	if err != nil {
		return err
	}
	entry, err := yaml.Marshal([]bus.SubscriberUser{u})
	if err != nil {
		return err
	}
	if _, err := bus.ParseUsers("the new entry", append([]byte("users:\n"), indentEntry(entry)...)); err != nil {
		if *seedOut != "" {
			os.Remove(*seedOut)
		}
		return err
	}
	if *asJSON {
		return writeJSON(stdout, natsUserResult{Name: u.Name, Password: secret, NkeySeedFile: *seedOut, Entry: string(entry)})
	}
	if secret != "" {
		fmt.Fprintf(stdout, "# password for %s (shown once, not stored): %s\n", u.Name, secret)
	} else {
		fmt.Fprintf(stdout, "# seed of %s written to %s (give it to the client: nats --nkey %s)\n", u.Name, *seedOut, *seedOut)
	}
	fmt.Fprintf(stdout, "# add under users: in the --nats-users file\n%s", entry)
	return nil
}

// natsUserResult is nats-user's --json output: the secret (shown once)
// or where the seed went, and the YAML entry for the users file.
type natsUserResult struct {
	Name         string `json:"name"`
	Password     string `json:"password,omitempty"`
	NkeySeedFile string `json:"nkey_seed_file,omitempty"`
	Entry        string `json:"entry"`
}

func newPassword() (password, hash string, err error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	password = base64.RawURLEncoding.EncodeToString(b)
	h, err := bcrypt.GenerateFromPassword([]byte(password), natsUserBcryptCost)
	return password, string(h), err
}

func newNkeyUser(seedOut string) (string, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", err
	}
	seed, err := kp.Seed()
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(seedOut, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("--nkey-seed-out: %w", err)
	}
	_, werr := f.Write(append(seed, '\n'))
	if err := errors.Join(werr, f.Close()); err != nil {
		return "", fmt.Errorf("--nkey-seed-out: %w", err)
	}
	return kp.PublicKey()
}

func indentEntry(b []byte) []byte {
	out := []byte("  ")
	for i, c := range b {
		out = append(out, c)
		if c == '\n' && i+1 < len(b) {
			out = append(out, ' ', ' ')
		}
	}
	return out
}
