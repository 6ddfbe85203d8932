package bus

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// The internal user's seed lives in <data dir>/nats/auditbus.nk, a file
// nats.NkeyOptionFromSeed and the nats CLI (--nkey) read as they are.
const (
	credentialsDirName = "nats"
	internalSeedFile   = "auditbus.nk"
)

// InternalUserName is what the embedded server's logs and connection lists
// call auditbus's own connection; no subscriber user may take the name.
const InternalUserName = "auditbus"

// ErrCredentialsExposed is returned when the internal user's seed file or
// its directory can be read or written by anyone but its owner.
var ErrCredentialsExposed = errors.New("NATS credentials are readable by others")

// InternalUser is the identity auditbus connects to its embedded server
// with: an nkey user. The server's configuration holds only the public
// key and authenticates by challenge (the server sends a nonce, the client
// signs it), so the seed never crosses a connection and nothing secret is
// in the server's options.
type InternalUser struct {
	kp       nkeys.KeyPair
	public   string
	SeedFile string // where the seed was read from
}

// Public is the user's public nkey (U...), for the server's Nkeys list.
func (u InternalUser) Public() string { return u.public }

// Option is the connect option that presents the user to a server.
func (u InternalUser) Option() nats.Option {
	return nats.Nkey(u.public, u.kp.Sign)
}

// LoadInternalUser reads the internal user's seed from
// <dataDir>/nats/auditbus.nk, generating it there first if the file does
// not exist (directory 0700, file 0600), so every later start reuses it.
// It refuses, with ErrCredentialsExposed, a file or directory that group
// or others may access, and, with an error naming the file, a seed that
// is not an nkey user seed: a damaged file is never replaced silently,
// since operators may have copied it for the nats CLI.
func LoadInternalUser(dataDir string) (InternalUser, error) {
	if dataDir == "" {
		return InternalUser{}, errors.New("NATS internal user: data dir is required")
	}
	dir := filepath.Join(dataDir, credentialsDirName)
	path := filepath.Join(dir, internalSeedFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := createSeed(dir, path); err != nil {
			return InternalUser{}, err
		}
	}
	if err := checkPrivate(dir, path); err != nil {
		return InternalUser{}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return InternalUser{}, fmt.Errorf("NATS internal user: %w", err)
	}
	return parseSeed(path, data)
}

func createSeed(dir, path string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("NATS internal user: %w", err)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("NATS internal user: generate nkey: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return fmt.Errorf("NATS internal user: %w", err)
	}
	// O_EXCL: two processes starting on one data dir must not each write
	// a seed and leave the other with a key that no longer matches.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("NATS internal user: %w", err)
	}
	_, werr := f.Write(append(seed, '\n'))
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("NATS internal user: write %s: %w", path, err)
	}
	return nil
}

// checkPrivate refuses a directory or file that group or others may
// access: the seed is the key to every audit record on the bus.
func checkPrivate(dir, path string) error {
	for _, p := range []string{dir, path} {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("NATS internal user: %w", err)
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			return fmt.Errorf("%w: %s has mode %04o; run chmod %s %s (or go-rwx)",
				ErrCredentialsExposed, p, perm, wantMode(st.IsDir()), p)
		}
	}
	return nil
}

func wantMode(dir bool) string {
	if dir {
		return "0700"
	}
	return "0600"
}

func parseSeed(path string, data []byte) (InternalUser, error) {
	seed := bytes.TrimSpace(data)
	bad := func(why string) (InternalUser, error) {
		return InternalUser{}, fmt.Errorf("NATS internal user: %s: %s; restore the file, or remove it to generate a new one (tools using it must then be given the new seed)", path, why)
	}
	if !bytes.HasPrefix(seed, []byte("SU")) {
		return bad("not an nkey user seed (want one line starting with SU)")
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return bad("malformed nkey seed: " + err.Error())
	}
	pub, err := kp.PublicKey()
	if err != nil || !strings.HasPrefix(pub, "U") {
		return bad("not an nkey user seed")
	}
	return InternalUser{kp: kp, public: pub, SeedFile: path}, nil
}
