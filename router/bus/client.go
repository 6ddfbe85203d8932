package bus

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
)

// ClientAuth is how auditbus authenticates to, and secures its connection
// with, an external NATS server or cluster (--nats-url). At most one of
// CredsFile, NkeySeedFile and User is used; the zero value connects with
// none (as the URL says, e.g. nats://user:pass@host, which ps shows).
type ClientAuth struct {
	CredsFile    string // decorated JWT and seed (.creds), as nsc writes it
	NkeySeedFile string // a file holding an nkey user seed (SU...)
	User         string
	// PasswordFile holds User's password (one line; trailing newline and
	// spaces trimmed). Password is the password itself, for callers that
	// read it from the environment; never take it from a flag, which ps
	// shows. PasswordFile wins when both are set.
	PasswordFile string
	Password     string
	// CAFile verifies the server's certificate (PEM); CertFile and KeyFile
	// are this client's certificate, for servers that verify clients. Any
	// of them turns TLS on.
	CAFile, CertFile, KeyFile string
}

// ErrClientAuth is wrapped by every problem with a ClientAuth.
var ErrClientAuth = errors.New("NATS client auth")

// IsZero reports whether nothing is set.
func (a ClientAuth) IsZero() bool { return a == ClientAuth{} }

// Options turns a into connect options, checking the files now so that a
// wrong path or combination stops start-up with its name rather than as a
// failed connection later.
func (a ClientAuth) Options() ([]nats.Option, error) {
	var opts []nats.Option
	set := 0
	for _, s := range []string{a.CredsFile, a.NkeySeedFile, a.User} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return nil, fmt.Errorf("%w: give one of --nats-creds, --nats-nkey and --nats-user", ErrClientAuth)
	}
	switch {
	case a.CredsFile != "":
		if err := readable(a.CredsFile, "--nats-creds"); err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	case a.NkeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(a.NkeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("%w: --nats-nkey %s: %w", ErrClientAuth, a.NkeySeedFile, err)
		}
		opts = append(opts, o)
	case a.User != "":
		pw, err := a.password()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserInfo(a.User, pw))
	case a.PasswordFile != "" || a.Password != "":
		return nil, fmt.Errorf("%w: a NATS password needs --nats-user", ErrClientAuth)
	}
	tlsOpts, err := a.tlsOptions()
	if err != nil {
		return nil, err
	}
	return append(opts, tlsOpts...), nil
}

func (a ClientAuth) password() (string, error) {
	if a.PasswordFile == "" {
		if a.Password == "" {
			return "", fmt.Errorf("%w: --nats-user needs --nats-password-file or AUDITBUS_NATS_PASSWORD", ErrClientAuth)
		}
		return a.Password, nil
	}
	data, err := os.ReadFile(a.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("%w: --nats-password-file: %w", ErrClientAuth, err)
	}
	pw := strings.TrimRight(string(data), "\r\n \t")
	if pw == "" {
		return "", fmt.Errorf("%w: --nats-password-file %s is empty", ErrClientAuth, a.PasswordFile)
	}
	return pw, nil
}

func (a ClientAuth) tlsOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if a.CAFile != "" {
		if err := readable(a.CAFile, "--nats-ca"); err != nil {
			return nil, err
		}
		opts = append(opts, nats.RootCAs(a.CAFile))
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		return nil, fmt.Errorf("%w: --nats-cert and --nats-key go together", ErrClientAuth)
	}
	if a.CertFile != "" {
		if err := readable(a.CertFile, "--nats-cert"); err != nil {
			return nil, err
		}
		if err := readable(a.KeyFile, "--nats-key"); err != nil {
			return nil, err
		}
		opts = append(opts, nats.ClientCert(a.CertFile, a.KeyFile))
	}
	return opts, nil
}

func readable(path, flag string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrClientAuth, flag, err)
	}
	return f.Close()
}
