package router

import (
	"cmp"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/ruleset"
	"github.com/auditbus/auditbus/router/topics"
)

// CheckConfig does what Start does before it binds a port or starts or
// dials NATS: it checks the flag combinations (exposure without auth, half
// pairs, NATS flags that do not fit the embedded or an external server),
// loads every rule file, the auth file, the TLS pair and client CA, the
// signing pair and the NATS credentials, and checks that the data dir is
// (or can be made) a writable directory. It leaves nothing behind: it
// makes no directory, key or store, and checks writability by creating an
// empty probe file (.auditbus-check-*) in the data dir, or its nearest
// existing parent, and removing it at once. It returns a
// short summary, one "name: value" line per part, or the first problem
// (rules.Errors for rule files, the sentinels Start returns for the rest).
// Only what needs the network stays unchecked: whether the NATS server is
// reachable and has enough nodes for Stream.Replicas.
func CheckConfig(cfg Config) ([]string, error) {
	cfg = withDefaults(cfg)
	if err := checkExposure(cfg); err != nil {
		return nil, err
	}
	var sum []string
	add := func(name, format string, a ...any) {
		sum = append(sum, fmt.Sprintf("%-9s %s", name+":", fmt.Sprintf(format, a...)))
	}
	n, targets, err := checkRuleFiles(cfg.Rules)
	if err != nil {
		return nil, err
	}
	add("rules", "%d rule(s), %d target(s) from %v", n, targets, cfg.Rules)
	if cfg.TopicsFile != "" {
		f, err := topics.ReadFile(cfg.TopicsFile)
		if err != nil {
			return nil, err
		}
		add("topics", "%d topic(s), %d function(s), %d group(s) from %s", len(f.Topics), len(f.Functions), len(f.Groups), cfg.TopicsFile)
	}
	listen, err := checkAPIAccess(cfg)
	if err != nil {
		return nil, err
	}
	add("listen", "%s", listen)
	nats, err := checkNATS(cfg)
	if err != nil {
		return nil, err
	}
	add("nats", "%s", nats)
	// The data dir first: the signing pair may be read from it.
	if err := checkWritableDir(cfg.DataDir); err != nil {
		return nil, err
	}
	signing, err := checkSigning(cfg)
	if err != nil {
		return nil, err
	}
	add("signing", "%s", signing)
	add("data dir", "%s (writable)", cfg.DataDir)
	return sum, nil
}

// checkRuleFiles loads the rule files as Start does (same parse options
// and checks, so the same errors) and counts rules and targets.
func checkRuleFiles(paths []string) (rules, targets int, err error) {
	m := ruleset.New(ruleset.WithFiles(paths...), ruleset.WithParseOptions(ruleParseOptions()...), ruleset.WithCheck(checkRule))
	if err := m.LoadFiles(); err != nil {
		return 0, 0, err
	}
	set, err := LoadRules(paths)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range set.Rules() {
		targets += len(r.Targets)
	}
	return set.Len(), targets, nil
}

// checkAPIAccess loads the TLS pair and client CA and the auth file as
// loadAccess does, and describes how the API is served.
func checkAPIAccess(cfg Config) (string, error) {
	tlsCfg, err := apiTLS(cfg)
	if err != nil {
		return "", err
	}
	desc := cfg.Listen
	switch {
	case tlsCfg == nil:
		desc += " (plain HTTP"
	case tlsCfg.ClientCAs != nil:
		desc += " (TLS " + cfg.TLSCertFile + ", client CA " + cfg.TLSClientCAFile
	default:
		desc += " (TLS " + cfg.TLSCertFile
	}
	switch {
	case cfg.AuthFile != "":
		if _, err := auth.New(cfg.AuthFile); err != nil {
			return "", err
		}
		desc += ", auth file " + cfg.AuthFile + ")"
	case cfg.InsecureNoAuth:
		desc += ", auth OFF: --insecure-no-auth)"
	default:
		desc += ", no auth: loopback only)"
	}
	return desc, nil
}

// checkNATS checks the NATS flags and reads every credentials file the
// connection would use, without connecting.
func checkNATS(cfg Config) (string, error) {
	if err := natsFlagsError(cfg); err != nil {
		return "", err
	}
	if cfg.NATSURL == "" {
		if cfg.Stream.Replicas > 1 {
			// Start would get JetStream's refusal from the one node.
			return "", fmt.Errorf("--stream-replicas %d needs a NATS cluster (--nats-url): the embedded server is a single node", cfg.Stream.Replicas)
		}
		desc := "embedded, client listener " + cfg.NATSListen
		if cfg.NATSUsersFile != "" {
			w, err := bus.NewUsersWatcher(cfg.NATSUsersFile, cfg.Log)
			if err != nil {
				return "", err
			}
			desc += fmt.Sprintf(", %d subscriber user(s) from %s", len(w.Users()), cfg.NATSUsersFile)
		}
		return fmt.Sprintf("%s, stream replicas %d", desc, cfg.Stream.Replicas), nil
	}
	if _, err := cfg.NATSAuth.Options(); err != nil {
		return "", err
	}
	if err := parseNATSFiles(cfg.NATSAuth); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s), stream replicas %d; not dialled", cfg.NATSURL, natsAuthDescription(cfg.NATSAuth), cfg.Stream.Replicas), nil
}

// parseNATSFiles parses the files nats.go reads only when it connects
// (credentials, CA, client pair), so that a broken one is found now.
func parseNATSFiles(a bus.ClientAuth) error {
	if a.CredsFile != "" {
		raw, err := os.ReadFile(a.CredsFile)
		if err != nil {
			return fmt.Errorf("%w: --nats-creds: %w", bus.ErrClientAuth, err)
		}
		token, err := nkeys.ParseDecoratedJWT(raw)
		if err == nil {
			_, err = jwt.DecodeUserClaims(token)
		}
		if err != nil {
			return fmt.Errorf("%w: --nats-creds %s: no user JWT: %w", bus.ErrClientAuth, a.CredsFile, err)
		}
		if _, err := nkeys.ParseDecoratedNKey(raw); err != nil {
			return fmt.Errorf("%w: --nats-creds %s: %w", bus.ErrClientAuth, a.CredsFile, err)
		}
	}
	if a.CAFile != "" {
		raw, err := os.ReadFile(a.CAFile)
		if err != nil {
			return fmt.Errorf("%w: --nats-ca: %w", bus.ErrClientAuth, err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(raw) {
			return fmt.Errorf("%w: --nats-ca %s: no PEM certificate in it", bus.ErrClientAuth, a.CAFile)
		}
	}
	if a.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile); err != nil {
			return fmt.Errorf("%w: --nats-cert/--nats-key: %w", bus.ErrClientAuth, err)
		}
	}
	return nil
}

func natsAuthDescription(a bus.ClientAuth) string {
	desc := "no credentials"
	switch {
	case a.CredsFile != "":
		desc = "creds " + a.CredsFile
	case a.NkeySeedFile != "":
		desc = "nkey " + a.NkeySeedFile
	case a.User != "":
		desc = "user " + a.User
	}
	if a.CAFile != "" || a.CertFile != "" {
		desc += ", TLS"
	}
	return desc
}

// checkSigning loads the configured signing pair, or the one a previous
// start generated in the data dir; it generates none.
func checkSigning(cfg Config) (string, error) {
	if cfg.PublicURL != "" {
		if _, err := checkPublicURL(cfg.PublicURL); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(cfg.DataDir, signingDirName)
	if cfg.SigningKeyFile == "" && cfg.SigningCertFile == "" {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return "a pair is generated in " + dir + " at the first start", nil
		}
	}
	s, err := loadSigner(cfg)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(s.Certificate().Raw)
	return fmt.Sprintf("%s (certificate SHA-256 %s)", cmp.Or(cfg.SigningCertFile, dir), hex.EncodeToString(sum[:])), nil
}

// checkWritableDir reports whether dir is a directory auditbus can write,
// or, when it does not exist yet, whether its nearest existing parent is
// (Start creates it). The probe file it writes is removed.
func checkWritableDir(dir string) error {
	probe := dir
	for {
		st, err := os.Stat(probe)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("data dir %s: %s is not a directory", dir, probe)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) || filepath.Dir(probe) == probe {
			return fmt.Errorf("data dir %s: %w", dir, err)
		}
		probe = filepath.Dir(probe)
	}
	f, err := os.CreateTemp(probe, ".auditbus-check-*")
	if err != nil {
		return fmt.Errorf("data dir %s: not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
