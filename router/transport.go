package router

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// ErrExposedWithoutAuth is returned by Start for a non-loopback --listen
// with no auth file, unless InsecureNoAuth says that is meant.
var ErrExposedWithoutAuth = errors.New("refusing to serve the API beyond loopback without auth")

// checkExposure refuses to serve every audit record and every rule to
// the whole network by accident.
func checkExposure(c Config) error {
	if c.AuthFile != "" || c.InsecureNoAuth || loopbackOnly(c.Listen) {
		return nil
	}
	return fmt.Errorf("%w: --listen %s is reachable from other machines; give --auth-file (see `auditbus token create`), or --insecure-no-auth if something in front of auditbus does the access control", ErrExposedWithoutAuth, c.Listen)
}

// loopbackOnly reports whether addr can only be reached from this
// machine: a loopback IP or "localhost". A host name that would need a
// lookup counts as exposed.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// tlsConfig is the API's TLS: the certificate reloaded when its files
// change, and client certificates asked for (and verified against
// clientCA) when one is given. A client without a certificate may still
// present a token or a signature.
func tlsConfig(certFile, keyFile, clientCA string, log zerolog.Logger) (*tls.Config, error) {
	rl := &certReloader{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	if err := rl.load(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: rl.get}
	if clientCA != "" {
		pem, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("tls client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls client CA %s: no PEM certificate in it", clientCA)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// certReloader serves the key pair, loading it again when either file's
// modification time changes (checked at most once a second). A pair that
// fails to load is logged and the one in use stays, so a half-written
// renewal never takes the API down.
type certReloader struct {
	certFile, keyFile string
	log               zerolog.Logger
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     [2]time.Time
	checkedAt time.Time
}

func (c *certReloader) load() error {
	stamp, err := c.stamps()
	if err != nil {
		return err
	}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	c.cert, c.stamp = &pair, stamp
	return nil
}

func (c *certReloader) stamps() ([2]time.Time, error) {
	var out [2]time.Time
	for i, f := range []string{c.certFile, c.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return out, fmt.Errorf("tls certificate: %w", err)
		}
		out[i] = st.ModTime()
	}
	return out, nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checkedAt) >= time.Second {
		c.checkedAt = now
		if stamp, err := c.stamps(); err == nil && stamp != c.stamp {
			if err := c.load(); err != nil {
				c.log.Error().Err(err).Msg("TLS certificate not reloaded; the one loaded before stays in use")
			} else {
				c.log.Info().Str("cert", c.certFile).Msg("TLS certificate reloaded")
			}
		}
	}
	return c.cert, nil
}
