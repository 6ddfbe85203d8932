package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDeployArgs: every way deploy/ starts auditbus names flags serve
// knows, and serves the API with auth and TLS.
func TestDeployArgs(t *testing.T) {
	for name, args := range map[string][]string{
		"Dockerfile":       dockerEntrypoint(t),
		"auditbus.service": systemdExecStart(t),
		"kubernetes.yaml":  kubernetesArgs(t),
	} {
		t.Run(name, func(t *testing.T) {
			if len(args) == 0 || args[0] != "serve" {
				t.Fatalf("args %q do not run serve", args)
			}
			c := defaultServeConfig()
			if err := parseLayered(c.flags, args[1:], io.Discard); err != nil {
				t.Fatalf("serve %q: %v", args[1:], err)
			}
			if c.AuthFile == "" || c.TLSCertFile == "" || c.TLSKeyFile == "" || c.InsecureNoAuth {
				t.Errorf("serve %q: auth file %q, TLS %q/%q, insecure %v: want auth and TLS", args[1:], c.AuthFile, c.TLSCertFile, c.TLSKeyFile, c.InsecureNoAuth)
			}
			if c.NATSURL != "" && c.NATSAuth.IsZero() {
				t.Errorf("serve %q: --nats-url without credentials", args[1:])
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

func dockerEntrypoint(t *testing.T) []string {
	for line := range strings.Lines(readDeploy(t, "Dockerfile")) {
		if rest, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok {
			var args []string
			if err := json.Unmarshal([]byte(rest), &args); err != nil {
				t.Fatalf("ENTRYPOINT: %v", err)
			}
			return args[1:]
		}
	}
	t.Fatal("Dockerfile has no ENTRYPOINT")
	return nil
}

func systemdExecStart(t *testing.T) []string {
	sc := bufio.NewScanner(strings.NewReader(readDeploy(t, "auditbus.service")))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			return strings.Fields(strings.ReplaceAll(rest, "${CREDENTIALS_DIRECTORY}", "/run/credentials/auditbus.service"))[1:]
		}
	}
	t.Fatal("unit has no ExecStart")
	return nil
}

func kubernetesArgs(t *testing.T) []string {
	dec := yaml.NewDecoder(strings.NewReader(readDeploy(t, "kubernetes.yaml")))
	for {
		var doc struct {
			Kind string
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct{ Args []string }
					}
				}
			}
		}
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("no Deployment with args: %v", err)
		}
		if doc.Kind == "Deployment" && len(doc.Spec.Template.Spec.Containers) > 0 {
			return doc.Spec.Template.Spec.Containers[0].Args
		}
	}
}
