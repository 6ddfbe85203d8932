package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDeployArgs: every way deploy/ starts auditbus is a command line
// serve accepts, whole (the image's ENTRYPOINT with its CMD, or with the
// Kubernetes args that replace CMD), and serves the API with auth and TLS.
func TestDeployArgs(t *testing.T) {
	entrypoint, cmd := dockerfile(t)
	for name, line := range map[string][]string{
		"Dockerfile":       append(slices.Clone(entrypoint), cmd...),
		"kubernetes.yaml":  append(slices.Clone(entrypoint), kubernetesArgs(t)...),
		"auditbus.service": systemdExecStart(t),
	} {
		t.Run(name, func(t *testing.T) {
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
		})
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
// replace the ENTRYPOINT, which the manifest must not do.
func kubernetesArgs(t *testing.T) []string {
	dec := yaml.NewDecoder(strings.NewReader(readDeploy(t, "kubernetes.yaml")))
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
