package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/internal/doccheck"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// fileKinds are the <!-- check: KIND --> markers of file-like blocks, each
// validated as the code that reads such a file would.
var fileKinds = map[string]func(root string, b doccheck.Block) error{
	"rule":    checkRule,
	"targets": checkTargets,
	"event":   checkEvent,
	"auth":    checkAuthFile,
	"nats-users": func(_ string, b doccheck.Block) error {
		_, err := bus.ParseUsers(blockName, []byte(b.Text))
		return inDoc(err, blockName, b)
	},
	"yaml":     checkYAML,
	"json":     checkElidedJSON,
	"go":       checkGoSnippet,
	"commands": checkGoCommands,
	"args":     checkArgs,
	"external": checkExternal,
}

func checkFileBlock(root string, b doccheck.Block) error {
	if len(b.Marker.Args) != 1 {
		return fmt.Errorf("want one kind: <!-- check: KIND --> with KIND one of %s", kindNames())
	}
	f, ok := fileKinds[b.Marker.Args[0]]
	if !ok {
		return fmt.Errorf("unknown kind %q: want one of %s", b.Marker.Args[0], kindNames())
	}
	return f(root, b)
}

func kindNames() string {
	return "rule, targets, event, auth, nats-users, yaml, json, go, commands, args, external"
}

// checkRule loads the block as a rule file, as `auditbus rules validate
// --strict` does: every error, and every lint warning, fails. ${VAR}
// references count as set.
func checkRule(_ string, b doccheck.Block) error {
	rs, err := rules.ParseFile(blockName, []byte(b.Text), rules.WithTargetCheck(sinks.Check),
		rules.WithLookupEnv(func(string) (string, bool) { return "whsec_ZG9jLWNoZWNrLXNlY3JldC1kb2MtY2hlY2stc2VjcmV0", true }))
	if err != nil {
		return inDoc(err, blockName, b)
	}
	if len(rs) == 0 {
		return errors.New("the block holds no rule")
	}
	var warnings []string
	for _, w := range lintRules(rs) {
		if w.Severity == rules.SeverityWarning {
			warnings = append(warnings, w.String())
		}
	}
	if len(warnings) > 0 {
		return inDoc(fmt.Errorf("rules validate --strict would refuse it:\n%s", strings.Join(warnings, "\n")), blockName, b)
	}
	return nil
}

// checkTargets loads a `targets:` list as the targets of a rule.
func checkTargets(root string, b doccheck.Block) error {
	if !strings.HasPrefix(b.Text, "targets:") {
		return errors.New("a targets block starts with `targets:`; use <!-- check: rule --> for a whole rule")
	}
	b.Text = "name: doc-example\npattern:\n  source: [doc.example]\n" + b.Text
	b.Line -= 3 // positions stay those of the doc
	return checkRule(root, b)
}

// checkEvent decodes the block as POST /v1/events would, in structured
// mode (a JSON array: batched mode).
func checkEvent(_ string, b doccheck.Block) error {
	ct := "application/cloudevents+json"
	if strings.HasPrefix(strings.TrimSpace(b.Text), "[") {
		ct = "application/cloudevents-batch+json"
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(b.Text))
	r.Header.Set("Content-Type", ct)
	_, err := ingest.Decode(r)
	return err
}

// checkYAML parses the block (a kubeconfig, a compose file, ...) as YAML:
// every document must parse, and the first must be a mapping.
func checkYAML(_ string, b doccheck.Block) error {
	dec := yaml.NewDecoder(strings.NewReader(b.Text))
	for i := 0; ; i++ {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if i > 0 && err.Error() == "EOF" {
				return nil
			}
			return err
		}
		if i == 0 && (len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode) {
			return errors.New("not a YAML mapping")
		}
	}
}

// checkElidedJSON: a JSON example, `...` standing for what is left out,
// is JSON.
func checkElidedJSON(_ string, b doccheck.Block) error {
	_, err := doccheck.ElidedJSON(b.Text)
	return err
}

// checkFrom: the block's text is in the named shipped file, verbatim (the
// whole file, or a run of whole lines of it).
func checkFrom(root string, b doccheck.Block) error {
	if len(b.Marker.Args) != 1 {
		return errors.New("want one file: <!-- from: PATH --> (PATH from the repository root)")
	}
	raw, err := os.ReadFile(filepath.Join(root, b.Marker.Args[0]))
	if err != nil {
		return fmt.Errorf("the file the block is from: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte(b.Text)) && !bytes.Contains(raw, []byte("\n"+b.Text)) {
		return fmt.Errorf("the block is not in %s word for word: copy it from the file again (or fix the file)", b.Marker.Args[0])
	}
	return nil
}

// repoPath finds paths into the repository in a doc: words starting with
// one of its top directories, after white space, @ (curl's --data @file),
// a quote, a backtick, `(` or `=`.
var repoPath = regexp.MustCompile("(?:^|[\\s@'\"`(=])(?:\\./)?((?:examples|deploy|router|rules|sinks|cmd|internal)/[A-Za-z0-9_./*-]*)")

// missingPaths lists the paths text names that do not exist under root.
func missingPaths(root, text string) []string {
	var missing []string
	for _, m := range repoPath.FindAllStringSubmatch(text, -1) {
		p := strings.TrimRight(m[1], ".,:")
		if dir, name, ok := cutLast(p, "."); ok && name != "" && name[0] >= 'A' && name[0] <= 'Z' {
			p = dir // a Go name: router/auth.SignatureVerifier
		}
		if matches, _ := filepath.Glob(filepath.Join(root, p)); len(matches) == 0 {
			missing = append(missing, p)
		}
	}
	return missing
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

var (
	secretFileKey = regexp.MustCompile(`(?m)^\s*secret_file:\s*(\S+)`)
	secretEnvKey  = regexp.MustCompile(`(?m)^\s*secret_env:\s*(\S+)`)
)

// checkAuthFile loads the block as serve loads --auth-file, beside the
// secret files it names (made up for the check, mode 0600) and with the
// environment variables it names set when they are not.
func checkAuthFile(_ string, b doccheck.Block) error {
	dir, err := os.MkdirTemp("", "doccheck-auth-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	const secret = "doc-check-secret-key-0123456789abcdefghij"
	for _, m := range secretFileKey.FindAllStringSubmatch(b.Text, -1) {
		if err := os.WriteFile(filepath.Join(dir, m[1]), []byte(secret+"\n"), 0o600); err != nil {
			return err
		}
	}
	for _, m := range secretEnvKey.FindAllStringSubmatch(b.Text, -1) {
		if _, set := os.LookupEnv(m[1]); !set {
			os.Setenv(m[1], secret)
			defer os.Unsetenv(m[1])
		}
	}
	file := filepath.Join(dir, "auth.yaml")
	if err := os.WriteFile(file, []byte(b.Text), 0o600); err != nil {
		return err
	}
	if _, err := auth.ParseFile(file); err != nil {
		return inDoc(err, file, b)
	}
	return nil
}

// externalTools are the programs a <!-- check: external --> block may run
// besides auditbus: what operators run on a deployment, which the doc check
// cannot run here.
var externalTools = map[string]bool{"docker": true, "kubectl": true, "helm": true, "kustomize": true,
	"kubeconform": true, "systemctl": true, "journalctl": true, "nats": true, "nats-server": true, "sudo": true,
	"openssl": true, "cp": true, "mv": true, "install": true, "mkdir": true, "chmod": true, "chown": true, "$EDITOR": true}

// checkExternal: a block of commands that act on a deployment (docker,
// kubectl, files under /etc, ...), which the check cannot run. Each command
// must be an auditbus command line, checked as <!-- check: args --> checks
// one, or one of externalTools; what the others do is for the deploy
// tests to prove. Repository paths must exist, as in every doc.
func checkExternal(root string, b doccheck.Block) error {
	cmds := shellCommands(b.Text)
	if len(cmds) == 0 {
		return errors.New("no commands in the block")
	}
	var errs []error
	for _, c := range cmds {
		for _, part := range strings.Split(c.line, "&&") {
			part = strings.TrimSpace(part)
			words, err := splitWords(part)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%q: %w", part, err))
			case len(words) == 0:
			case words[0] == "auditbus" || strings.HasPrefix(part, "go run ./cmd/auditbus"):
				if err := checkArgsLine(root, part); err != nil {
					errs = append(errs, fmt.Errorf("%q: %w", part, err))
				}
			case !externalTools[words[0]]:
				errs = append(errs, fmt.Errorf("%q: %s is not a deployment tool this check knows (%s); run shell commands with <!-- run -->", part, words[0], toolNames()))
			}
		}
	}
	return errors.Join(errs...)
}
func toolNames() string {
	names := make([]string, 0, len(externalTools))
	for n := range externalTools {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// blockName is what a loader is told the block is called, so that inDoc
// can find its positions in the error.
const blockName = "doc-block"

var blockPos = regexp.MustCompile(`(\d+):(\d+)`)

// inDoc rewrites name:LINE:COL positions in err, lines of the block, to
// the doc's file and lines.
func inDoc(err error, name string, b doccheck.Block) error {
	if err == nil {
		return nil
	}
	re := regexp.MustCompile(regexp.QuoteMeta(name) + `:(\d+):(\d+)`)
	msg := re.ReplaceAllStringFunc(err.Error(), func(m string) string {
		p := blockPos.FindStringSubmatch(m[len(name):])
		line, _ := strconv.Atoi(p[1])
		return fmt.Sprintf("%s:%d:%s", b.File, b.Line+line, p[2])
	})
	return errors.New(msg)
}
