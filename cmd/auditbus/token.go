package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/auditbus/auditbus/router/auth"
)

// runTokenCreate prints a new credential once, with the auth file entry
// that grants it: the file keeps only the token's hash.
func runTokenCreate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token create", stderr)
	var name string
	var actions, buses []string
	var accessKey bool
	fs.StringVar(&name, "name", "", "identity name, as logs and 403 answers show it (required)")
	fs.Var(&listFlag{list: &actions}, "action", `action to grant (repeatable or comma-separated; "*" for all): `+strings.Join(auth.Actions, ", "))
	fs.Var(&listFlag{list: &buses}, "bus", "limit the identity to this bus (repeatable; default every bus)")
	fs.BoolVar(&accessKey, "access-key", false, "make an access key pair for SDK-HMAC-SHA256 signed requests (Huawei Cloud SDKs) instead of a token")
	asJSON := jsonFlag(fs, "the credential and its entry")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if name == "" || len(actions) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "token create needs --name and at least one --action")
		fs.Usage()
		return errUsage
	}
	entry, err := identityEntry(name, actions, buses)
	if err != nil {
		return err
	}
	if accessKey {
		ak, sk := randomString(20, akAlphabet), randomString(40, skAlphabet)
		entry += fmt.Sprintf("    access_keys:\n      - id: %s\n        secret_file: %s.sk\n", ak, name)
		if *asJSON {
			return writeJSON(stdout, tokenResult{Name: name, AccessKey: ak, SecretKey: sk, Entry: entry})
		}
		fmt.Fprintf(stdout, "access key: %s\nsecret key: %s\n\nThe secret key is shown once. Put it in a file only auditbus can read (chmod 600) and add to the auth file's identities:\n\n", ak, sk)
		fmt.Fprint(stdout, entry)
		return nil
	}
	token, hash, err := auth.NewToken()
	if err != nil {
		return err
	}
	entry += fmt.Sprintf("    tokens: [%q]\n", hash)
	if *asJSON {
		return writeJSON(stdout, tokenResult{Name: name, Token: token, Entry: entry})
	}
	fmt.Fprintf(stdout, "token: %s\n\nThe token is shown once; the auth file keeps its hash. Add to the auth file's identities:\n\n", token)
	fmt.Fprint(stdout, entry)
	return nil
}

// tokenResult is token create's --json output: the credential, shown
// once, and the auth file entry that grants it.
type tokenResult struct {
	Name      string `json:"name"`
	Token     string `json:"token,omitempty"`
	AccessKey string `json:"access_key,omitempty"`
	SecretKey string `json:"secret_key,omitempty"`
	Entry     string `json:"entry"`
}

// identityEntry is the start of the auth file entry, actions and buses
// checked the way the file will be.
func identityEntry(name string, actions, buses []string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    actions: [%s]\n", name, quoteAll(actions))
	if len(buses) > 0 {
		fmt.Fprintf(&b, "    buses: [%s]\n", quoteAll(buses))
	}
	// The entry must load: check it with a placeholder credential.
	check := "identities:\n" + b.String() + "    tokens: [\"" + auth.HashToken("check") + "\"]\n"
	var errs auth.FileErrors
	if errors.As(auth.Check("", []byte(check)), &errs) {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Msg
		}
		return "", errors.New(strings.Join(msgs, "; "))
	}
	return b.String(), nil
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

const (
	akAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	skAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString draws n characters uniformly from alphabet.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	for i := range out {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err) // crypto/rand never fails on Linux; a broken one must not yield weak keys
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out)
}
