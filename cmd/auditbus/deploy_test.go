package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// deployLine is one way deploy/ starts auditbus: the whole command line
// (binary first) and the rule directory the deployment puts where the
// line's --rules points.
type deployLine struct {
	line  []string
	rules string // relative to the repository root; "" for an empty directory, notMounted for none
}

// notMounted as a deployLine's rules: the directory --rules names is not there.
const notMounted = "-"

// deployLines are every command line deploy/ starts auditbus with: the
// image's ENTRYPOINT with its CMD, with the Kubernetes Deployment's args
// and with each compose service's command (both replace CMD), and the
// systemd unit's ExecStart.
func deployLines(t *testing.T) map[string]deployLine {
	entrypoint, cmd := dockerfile(t)
	lines := map[string]deployLine{
		"Dockerfile":               {append(slices.Clone(entrypoint), cmd...), "examples/rules"},
		"kubernetes/auditbus.yaml": {append(slices.Clone(entrypoint), kubernetesArgs(t)...), "deploy/kubernetes/rules"},
		"auditbus.service":         {systemdExecStart(t), ""},
	}
	for name, command := range composeCommands(t) {
		lines["compose.yaml "+name] = deployLine{append(slices.Clone(entrypoint), command...), "examples/rules"}
	}
	return lines
}

// TestDeployArgs: every way deploy/ starts auditbus is a command line
// serve accepts, whole, that serves the API with auth and TLS; and the
// built binary, run with that line plus --check-config and the files the
// line names present, accepts the configuration. So a line the binary
// refuses (a `serve` twice, a missing Secret mount's flag, a flag
// combination Start refuses) fails here rather than crash-looping.
func TestDeployArgs(t *testing.T) {
	bin := buildAuditbus(t)
	for name, d := range deployLines(t) {
		t.Run(name, func(t *testing.T) {
			line := d.line
			if len(line) < 2 || filepath.Base(line[0]) != "auditbus" || line[1] != "serve" {
				t.Fatalf("command line %q does not run auditbus serve", line)
			}
			c := defaultServeConfig()
			if err := parseLayered(c.flags, line[2:], io.Discard); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if c.AuthFile == "" || c.TLSCertFile == "" || c.TLSKeyFile == "" || c.InsecureNoAuth {
				t.Errorf("%q: auth file %q, TLS %q/%q, insecure %v: want auth and TLS", line, c.AuthFile, c.TLSCertFile, c.TLSKeyFile, c.InsecureNoAuth)
			}
			if c.NATSURL != "" && c.NATSAuth.IsZero() {
				t.Errorf("%q: --nats-url without credentials", line)
			}
			if c.NATSURL != "" && c.Stream.Replicas < 3 {
				t.Errorf("%q: replicas on a NATS cluster with streams of %d replica(s): one node down stops the bus", line, c.Stream.Replicas)
			}
			if c.NATSURL != "" && c.SigningKeyFile == "" {
				t.Errorf("%q: replicas on a NATS cluster, each with a signing key of its own", line)
			}
			out, errOut, err := checkConfigRun(t, bin, d)
			if err != nil || !strings.HasPrefix(out, "configuration OK") {
				t.Fatalf("%q --check-config: %v\n%s%s", line, err, out, errOut)
			}
		})
	}
}

// TestDeployArgsCheckCatchesMismatch: the run above fails for the line of
// issue 11 (an ENTRYPOINT that holds serve and args that start with serve
// again) and for a line that names a file the deployment does not have.
func TestDeployArgsCheckCatchesMismatch(t *testing.T) {
	bin := buildAuditbus(t)
	k8s := deployLines(t)["kubernetes/auditbus.yaml"]
	twice := deployLine{append([]string{k8s.line[0], "serve"}, k8s.line[1:]...), k8s.rules}
	if _, errOut, err := checkConfigRun(t, bin, twice); exitCode(err) != 2 || !strings.Contains(errOut, "unexpected arguments: [serve") {
		t.Errorf("serve twice: %v\n%s; want exit 2 naming the unexpected arguments", err, errOut)
	}
	noRules := deployLine{k8s.line, notMounted}
	if _, errOut, err := checkConfigRun(t, bin, noRules); exitCode(err) != 1 || !strings.Contains(errOut, "etc/auditbus/rules: rule path: no such file or directory") {
		t.Errorf("rules directory missing: %v\n%s; want exit 1 naming the missing path", err, errOut)
	}
}

func readDeploy(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// dockerfile returns the image's ENTRYPOINT and CMD (exec form).
func dockerfile(t *testing.T) (entrypoint, cmd []string) {
	for line := range strings.Lines(readDeploy(t, "Dockerfile")) {
		for _, kw := range []struct {
			prefix string
			into   *[]string
		}{{"ENTRYPOINT ", &entrypoint}, {"CMD ", &cmd}} {
			if rest, ok := strings.CutPrefix(line, kw.prefix); ok {
				if err := json.Unmarshal([]byte(rest), kw.into); err != nil {
					t.Fatalf("%s: %v", kw.prefix, err)
				}
			}
		}
	}
	if len(entrypoint) == 0 {
		t.Fatal("Dockerfile has no exec-form ENTRYPOINT")
	}
	return entrypoint, cmd
}

func systemdExecStart(t *testing.T) []string {
	sc := bufio.NewScanner(strings.NewReader(readDeploy(t, "auditbus.service")))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			return strings.Fields(strings.ReplaceAll(rest, "${CREDENTIALS_DIRECTORY}", "/run/credentials/auditbus.service"))
		}
	}
	t.Fatal("unit has no ExecStart")
	return nil
}

// kubernetesArgs are the Deployment container's args; a `command` would
// replace the ENTRYPOINT, which the manifest must not do. deploy/check
// checks that kustomize renders the Deployment with these args unchanged.
func kubernetesArgs(t *testing.T) []string {
	dec := yaml.NewDecoder(strings.NewReader(readDeploy(t, "kubernetes/auditbus.yaml")))
	for {
		var doc struct {
			Kind string
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct{ Command, Args []string }
					}
				}
			}
		}
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("no Deployment with args: %v", err)
		}
		if doc.Kind == "Deployment" && len(doc.Spec.Template.Spec.Containers) > 0 {
			c := doc.Spec.Template.Spec.Containers[0]
			if c.Command != nil {
				t.Fatalf("the Deployment sets command %q: the image's ENTRYPOINT is the binary", c.Command)
			}
			return c.Args
		}
	}
}

// composeCommands are the commands of the compose services that run the
// auditbus image (anchors and merge keys resolved by the YAML decoder);
// an entrypoint there would replace the image's, which they must not set.
func composeCommands(t *testing.T) map[string][]string {
	var doc struct {
		Services map[string]struct {
			Image      string
			Entrypoint []string
			Command    []string
		}
	}
	if err := yaml.Unmarshal([]byte(readDeploy(t, "compose.yaml")), &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	out := map[string][]string{}
	for name, s := range doc.Services {
		if !strings.HasPrefix(s.Image, "auditbus") {
			continue
		}
		if s.Entrypoint != nil {
			t.Fatalf("compose service %s sets entrypoint %q: the image's ENTRYPOINT is the binary", name, s.Entrypoint)
		}
		out[name] = s.Command
	}
	if len(out) < 2 {
		t.Fatalf("compose.yaml runs %d auditbus service(s), want at least 2", len(out))
	}
	return out
}

// checkConfigRun runs bin with d's line and --check-config, every absolute
// path of the line moved under a temp root (/etc/x is <root>/etc/x), where
// the files the line's flags name are made first (deployFixtures). It
// returns what it printed.
func checkConfigRun(t *testing.T, bin string, d deployLine) (stdout, stderr string, err error) {
	t.Helper()
	root := t.TempDir()
	args := make([]string, 0, len(d.line))
	for _, a := range d.line[1:] {
		if filepath.IsAbs(a) {
			a = filepath.Join(root, a)
		}
		args = append(args, a)
	}
	deployFixtures(t, bin, args, d.rules)
	cmd := exec.Command(bin, append(args, "--check-config")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + root} // no AUDITBUS_* from the test's environment
	cmd.Dir = root
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	dieWithTest(cmd)
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
