package bus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// SubscriberUser is one entry of the NATS users file: a client that may
// read the events (see SubscriberPermissions) and nothing else. It signs
// in with a password, kept only as its bcrypt hash, or with an nkey, of
// which the file holds only the public key.
type SubscriberUser struct {
	Name         string   `yaml:"name"`
	PasswordHash string   `yaml:"password_bcrypt,omitempty"`
	Nkey         string   `yaml:"nkey,omitempty"`
	Subjects     []string `yaml:"subjects,omitempty"` // extra core subjects it may subscribe to, e.g. nats targets' subjects
}

// ErrUsersFile marks every problem found in a users file; the message
// names the file, the line and the entry.
var ErrUsersFile = errors.New("NATS users file")

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type usersDoc struct {
	Users []SubscriberUser `yaml:"users"`
}

// LoadUsersFile reads and checks a users file (see ParseUsers).
func LoadUsersFile(path string) ([]SubscriberUser, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsersFile, err)
	}
	return ParseUsers(path, data)
}

// ParseUsers parses a users file:
//
//	users:
//	  - name: siem                # letters, digits, . _ -; unique; not "auditbus"
//	    password_bcrypt: "$2a$11$..."
//	  - name: alerts-reader
//	    nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4
//	    subjects: ["alerts.>"]    # optional extra subjects to subscribe to
//
// Each user has exactly one of password_bcrypt (a bcrypt hash: plain
// passwords are refused) and nkey (a user public key). Extra subjects must
// begin with a literal token that is not "auditbus" and does not start
// with $ or _, so they can never reach the KV buckets, the JetStream API,
// the queues or anyone's reply inbox. An empty file or list means no
// subscribers. Every problem is reported (errors wrap ErrUsersFile) and
// none of the file is used then.
func ParseUsers(path string, data []byte) ([]SubscriberUser, error) {
	var lines yaml.Node
	if err := yaml.Unmarshal(data, &lines); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrUsersFile, path, err)
	}
	var doc usersDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w %s: %w", ErrUsersFile, path, err)
	}
	itemLines := userLines(&lines)
	var errs []error
	names, keys := map[string]bool{}, map[string]bool{}
	for i, u := range doc.Users {
		line := 0
		if i < len(itemLines) {
			line = itemLines[i]
		}
		for _, why := range checkUser(u, names, keys) {
			errs = append(errs, fmt.Errorf("%w %s:%d: user %d (%q): %s", ErrUsersFile, path, line, i+1, u.Name, why))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return doc.Users, nil
}

// userLines is the line of each item of the top-level users list.
func userLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "users" {
			var out []int
			for _, item := range m.Content[i+1].Content {
				out = append(out, item.Line)
			}
			return out
		}
	}
	return nil
}

func checkUser(u SubscriberUser, names, keys map[string]bool) []string {
	var why []string
	switch {
	case !userNameRE.MatchString(u.Name):
		why = append(why, "name must be 1 to 64 letters, digits, '.', '_' or '-'")
	case u.Name == InternalUserName:
		why = append(why, fmt.Sprintf("name %q is auditbus's own user", InternalUserName))
	case names[u.Name]:
		why = append(why, "name is used by an earlier user")
	}
	names[u.Name] = true
	switch {
	case u.PasswordHash == "" && u.Nkey == "":
		why = append(why, "needs password_bcrypt or nkey")
	case u.PasswordHash != "" && u.Nkey != "":
		why = append(why, "has both password_bcrypt and nkey; give one")
	case u.PasswordHash != "":
		if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || !strings.HasPrefix(u.PasswordHash, "$2") {
			why = append(why, "password_bcrypt is not a bcrypt hash (plain passwords are not accepted; `auditbus nats-user` makes one)")
		}
	default:
		if !nkeys.IsValidPublicUserKey(u.Nkey) {
			why = append(why, "nkey is not a user public key (U..., 56 characters)")
		} else if keys[u.Nkey] {
			why = append(why, "nkey is used by an earlier user")
		}
		keys[u.Nkey] = true
	}
	for _, s := range u.Subjects {
		if msg := checkExtraSubject(s); msg != "" {
			why = append(why, fmt.Sprintf("subject %q: %s", s, msg))
		}
	}
	return why
}

// checkExtraSubject allows only subjects outside every namespace auditbus
// and the server use: the first token decides, since a wildcard there
// would reach them all.
func checkExtraSubject(s string) string {
	if !server.IsValidSubject(s) {
		return "not a valid NATS subject"
	}
	first, _, _ := strings.Cut(s, ".")
	switch {
	case first == "*" || first == ">":
		return "the first token must be literal"
	case strings.HasPrefix(first, "$") || strings.HasPrefix(first, "_"):
		return "subjects starting with $ or _ belong to the server and reply inboxes"
	case first == "auditbus":
		return "auditbus.> is auditbus's own (the events are readable already)"
	}
	return ""
}
