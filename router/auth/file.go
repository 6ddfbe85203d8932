package auth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileError is one problem of an auth file, at a line and column.
type FileError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// FileErrors is every problem of an auth file.
type FileErrors []*FileError

func (es FileErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// identityName is what a name may be: it appears in logs and answers.
var identityName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`)

// busName is the syntax of a bus, the same as the API's.
var busName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// accessKey is one access key pair of an identity.
type accessKey struct {
	id     *Identity
	secret []byte
}

// certMatch maps a client certificate to an identity by its subject's
// common name or its whole subject (RFC 2253 form, as Go prints it).
type certMatch struct {
	id                  *Identity
	commonName, subject string
}

// table is a compiled auth file.
type table struct {
	tokens map[[32]byte]*Identity // by the SHA-256 of the token
	keys   map[string]accessKey
	certs  []certMatch
	names  []string
}

// parser collects an auth file's problems with their positions.
type parser struct {
	file string
	dir  string
	errs FileErrors
	t    *table
	seen map[string]*yaml.Node // credentials already claimed, for duplicates
	// inlineSecrets notes an access key secret written in the file itself,
	// which makes the file's permissions matter.
	inlineSecrets bool
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &FileError{File: p.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

// ParseFile reads and checks an auth file. Its shape:
//
//	identities:
//	  - name: kube-apiserver-prod      # required, unique
//	    tokens: ["sha256:<hex>"]        # hashes, as `auditbus token create` prints
//	    access_keys:                    # SDK-HMAC-SHA256 request signing
//	      - id: AKXXXXXXXX
//	        secret_file: prod.sk       # or secret_env: VAR, or secret: "..."
//	    certificates:                   # TLS client certificates (--tls-client-ca)
//	      - common_name: kube-apiserver # or subject: "CN=...,O=..."
//	    actions: [sources:put]          # required; "*" for all
//	    buses: [default]                # optional; default every bus
//
// The error is FileErrors listing every problem with line and column, or
// the read error. A file holding an inline secret, and a secret_file, must
// not be readable by others nor writable by its group.
func ParseFile(path string) (*table, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth file: %w", err)
	}
	t, inline, err := parse(path, raw)
	if err != nil {
		return nil, err
	}
	if inline {
		if err := checkPrivate(path); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Check reports the problems of an auth file's contents, as ParseFile
// would, without reading secret files' permissions; name is what errors
// call the file.
func Check(name string, raw []byte) error {
	_, _, err := parse(name, raw)
	return err
}

func checkPrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("auth file: %w", err)
	}
	// Group read is allowed: Kubernetes mounts a Secret group-readable
	// (fsGroup) for a container that does not run as root.
	if st.Mode().Perm()&0o027 != 0 {
		return fmt.Errorf("%s holds a secret but others may read it or its group may change it (mode %04o): chmod 600 (or 640) it", path, st.Mode().Perm())
	}
	return nil
}

func parse(path string, raw []byte) (*table, bool, error) {
	p := &parser{file: path, dir: filepath.Dir(path), seen: map[string]*yaml.Node{},
		t: &table{tokens: map[[32]byte]*Identity{}, keys: map[string]accessKey{}}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		return nil, false, FileErrors{{File: path, Line: 1, Col: 1, Msg: "not a YAML document: " + err.Error()}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	fields := p.mapping(root, "the auth file", "identities")
	list := fields["identities"]
	switch {
	case len(p.errs) > 0:
	case list == nil || list.Kind != yaml.SequenceNode:
		p.errorf(root, "want identities: a list of identities")
	case len(list.Content) == 0:
		p.errorf(list, "no identities: every request would be refused; remove --auth-file to run without auth (loopback only)")
	default:
		for _, n := range list.Content {
			p.identity(n)
		}
	}
	if len(p.errs) > 0 {
		return nil, false, p.errs
	}
	return p.t, p.inlineSecrets, nil
}

// mapping returns the fields of a mapping node, reporting unknown and
// repeated keys: a misspelt key must not silently grant or lose anything.
func (p *parser) mapping(n *yaml.Node, what string, known ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping", what)
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(known, k.Value):
			p.errorf(k, "%s: unknown key %q (want %s)", what, k.Value, strings.Join(known, ", "))
		case out[k.Value] != nil:
			p.errorf(k, "%s: key %q given twice", what, k.Value)
		default:
			out[k.Value] = v
		}
	}
	return out
}

// strings returns a sequence of scalars.
func (p *parser) strs(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: want a list", what)
		return nil
	}
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode || c.Value == "" {
			p.errorf(c, "%s: want non-empty strings", what)
			return nil
		}
	}
	return n.Content
}

// claim records a credential, reporting one another identity already has.
func (p *parser) claim(n *yaml.Node, key, what string) bool {
	if prev, dup := p.seen[key]; dup {
		p.errorf(n, "%s is also given at line %d: each credential belongs to one identity", what, prev.Line)
		return false
	}
	p.seen[key] = n
	return true
}

func (p *parser) identity(n *yaml.Node) {
	f := p.mapping(n, "identity", "name", "tokens", "access_keys", "certificates", "actions", "buses")
	if f == nil {
		return
	}
	id := &Identity{}
	name := f["name"]
	if name == nil || !identityName.MatchString(name.Value) {
		p.errorf(n, "identity: want a name matching %s", identityName)
		return
	}
	id.Name = name.Value
	if p.claim(name, "name\x00"+name.Value, fmt.Sprintf("name %q", name.Value)) {
		p.t.names = append(p.t.names, name.Value)
	}
	what := fmt.Sprintf("identity %q", id.Name)
	p.grants(f["actions"], n, what, id)
	if b := f["buses"]; b != nil {
		id.buses = []string{}
		for _, c := range p.strs(b, what+" buses") {
			if !busName.MatchString(c.Value) {
				p.errorf(c, "%s: bus %q: want [a-z0-9][a-z0-9-]{0,63}", what, c.Value)
			}
			id.buses = append(id.buses, c.Value)
		}
	}
	creds := len(p.t.tokens) + len(p.t.keys) + len(p.t.certs)
	if t := f["tokens"]; t != nil {
		p.tokens(t, what, id)
	}
	if k := f["access_keys"]; k != nil {
		p.accessKeys(k, what, id)
	}
	if c := f["certificates"]; c != nil {
		p.certificates(c, what, id)
	}
	if creds == len(p.t.tokens)+len(p.t.keys)+len(p.t.certs) {
		p.errorf(n, "%s: no tokens, access_keys or certificates: nobody could present it", what)
	}
}

func (p *parser) grants(n, parent *yaml.Node, what string, id *Identity) {
	if n == nil {
		p.errorf(parent, "%s: want actions: a list of actions, or [\"*\"]", what)
		return
	}
	for _, c := range p.strs(n, what+" actions") {
		if !validGrant(c.Value) {
			p.errorf(c, "%s: unknown action %q (known: %s, or \"*\")", what, c.Value, strings.Join(Actions, ", "))
			continue
		}
		id.grants = append(id.grants, c.Value)
	}
	if len(n.Content) == 0 {
		p.errorf(n, "%s: no actions: the identity could do nothing", what)
	}
}

func (p *parser) tokens(n *yaml.Node, what string, id *Identity) {
	for _, c := range p.strs(n, what+" tokens") {
		hexSum, ok := strings.CutPrefix(c.Value, hashPrefix)
		sum, err := hex.DecodeString(hexSum)
		if !ok || err != nil || len(sum) != 32 {
			p.errorf(c, "%s: a token is written as its hash, \"sha256:\" and 64 hex digits, as `auditbus token create` prints it", what)
			continue
		}
		if p.claim(c, "token\x00"+strings.ToLower(hexSum), "this token") {
			p.t.tokens[[32]byte(sum)] = id
		}
	}
}

func (p *parser) accessKeys(n *yaml.Node, what string, id *Identity) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s access_keys: want a list", what)
		return
	}
	for _, c := range n.Content {
		f := p.mapping(c, what+" access key", "id", "secret", "secret_file", "secret_env")
		if f == nil {
			continue
		}
		ak := f["id"]
		if ak == nil || ak.Value == "" {
			p.errorf(c, "%s: an access key needs an id", what)
			continue
		}
		secret, err := p.secret(f)
		if err != nil {
			p.errorf(c, "%s: access key %q: %v", what, ak.Value, err)
			continue
		}
		if p.claim(ak, "ak\x00"+ak.Value, fmt.Sprintf("access key %q", ak.Value)) {
			p.t.keys[ak.Value] = accessKey{id: id, secret: secret}
		}
	}
}

// secret reads an access key's secret from exactly one of its sources.
func (p *parser) secret(f map[string]*yaml.Node) ([]byte, error) {
	var given []string
	for _, k := range []string{"secret", "secret_file", "secret_env"} {
		if f[k] != nil {
			given = append(given, k)
		}
	}
	if len(given) != 1 {
		return nil, errors.New("give exactly one of secret_file, secret_env or secret")
	}
	var s string
	switch given[0] {
	case "secret":
		s, p.inlineSecrets = f["secret"].Value, true
	case "secret_env":
		v, ok := os.LookupEnv(f["secret_env"].Value)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set", f["secret_env"].Value)
		}
		s = v
	case "secret_file":
		path := f["secret_file"].Value
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.dir, path)
		}
		if err := checkPrivate(path); err != nil {
			return nil, err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		s = strings.TrimSpace(string(raw))
	}
	if len(s) < 16 {
		return nil, errors.New("the secret is shorter than 16 characters")
	}
	return []byte(s), nil
}

func (p *parser) certificates(n *yaml.Node, what string, id *Identity) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s certificates: want a list", what)
		return
	}
	for _, c := range n.Content {
		f := p.mapping(c, what+" certificate", "common_name", "subject")
		if f == nil {
			continue
		}
		m := certMatch{id: id}
		if cn := f["common_name"]; cn != nil {
			m.commonName = cn.Value
		}
		if s := f["subject"]; s != nil {
			m.subject = s.Value
		}
		if (m.commonName == "") == (m.subject == "") {
			p.errorf(c, "%s: a certificate is matched by exactly one of common_name or subject", what)
			continue
		}
		if p.claim(c, "cert\x00"+m.commonName+"\x00"+m.subject, "this certificate match") {
			p.t.certs = append(p.t.certs, m)
		}
	}
}
