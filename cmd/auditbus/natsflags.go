package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/sinks"
)

// natsPasswordEnv carries --nats-user's password when no file does; it is
// not a flag, so the password never shows in ps.
const natsPasswordEnv = "AUDITBUS_NATS_PASSWORD"

// natsFlags are serve's NATS access flags: the embedded server's users
// file, and how to sign in to a --nats-url server.
func natsFlags(fs *flag.FlagSet, c *router.Config) {
	fs.StringVar(&c.NATSUsersFile, "nats-users", c.NATSUsersFile, "YAML file of subscriber users of the embedded NATS server (read-only access to the events), reloaded on change; see `auditbus nats-user`")
	natsAuthFlags(fs, &c.NATSAuth)
}

// natsAuthFlags are how a command signs in to a --nats-url server.
func natsAuthFlags(fs *flag.FlagSet, a *bus.ClientAuth) {
	fs.StringVar(&a.CredsFile, "nats-creds", a.CredsFile, "with --nats-url: NATS credentials file (JWT and seed, as nsc writes it)")
	fs.StringVar(&a.NkeySeedFile, "nats-nkey", a.NkeySeedFile, "with --nats-url: file holding an nkey user seed")
	fs.StringVar(&a.User, "nats-user", a.User, "with --nats-url: NATS user name; the password comes from --nats-password-file or "+natsPasswordEnv)
	fs.StringVar(&a.PasswordFile, "nats-password-file", a.PasswordFile, "with --nats-url: file holding --nats-user's password")
	fs.StringVar(&a.CAFile, "nats-ca", a.CAFile, "with --nats-url: PEM CA certificates that verify the NATS server (turns TLS on)")
	fs.StringVar(&a.CertFile, "nats-cert", a.CertFile, "with --nats-url: PEM client certificate for NATS, with --nats-key (turns TLS on)")
	fs.StringVar(&a.KeyFile, "nats-key", a.KeyFile, "with --nats-url: PEM private key of --nats-cert")
}

// natsConnect signs in to servers (a --nats-url) as a says (the password, when a has a user
// but no password file, from natsPasswordEnv) and opens JetStream on the
// connection; the caller closes the connection.
func natsConnect(servers, name string, a bus.ClientAuth) (*nats.Conn, jetstream.JetStream, error) {
	a.Password = os.Getenv(natsPasswordEnv)
	opts, err := a.Options()
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts, nats.Name(name), nats.Timeout(10*time.Second))
	nc, err := nats.Connect(servers, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS %s: %w", shownNATSURL(servers), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream on %s: %w", shownNATSURL(servers), err)
	}
	return nc, js, nil
}

// shownNATSURL is a --nats-url as errors and output show it: each URL of
// the comma-separated list with its user information masked whole, since
// a NATS URL's user part alone may be a token (nats://TOKEN@host).
func shownNATSURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			parts[i] = sinks.Redacted
		case u.User != nil:
			u.User = nil
			scheme, rest, _ := strings.Cut(u.String(), "//")
			parts[i] = scheme + "//" + sinks.Redacted + "@" + rest
		}
	}
	return strings.Join(parts, ",")
}
