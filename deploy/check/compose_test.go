package check

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/nats-io/nats-server/v2/server"
)

// loadCompose loads a compose file with compose-spec's loader, as
// `docker compose -f FILE config` does: validated against the Compose
// Specification's schema, anchors and merge keys resolved, paths resolved
// against the file's directory. The environment is left out, so that
// nothing of the machine running the test leaks in.
func loadCompose(t *testing.T, file string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{file}, cli.WithWorkingDirectory(filepath.Dir(file)), cli.WithEnv([]string{}))
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// TestCompose: deploy/compose.yaml loads; its three NATS nodes run the
// shipped config with their own names and routes to all three (as
// nats-server parses their command lines), JetStream on a volume of their
// own, and a healthcheck; its auditbus replicas keep the image's
// ENTRYPOINT, wait for healthy NATS, run read-only with a data volume of
// their own and a healthcheck, and read every /run/secrets file from a
// secret they are given.
func TestCompose(t *testing.T) {
	p, err := loadCompose(t, "../compose.yaml")
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	conf, err := filepath.Abs("../nats-cluster.conf")
	if err != nil {
		t.Fatal(err)
	}
	natsVersion, err := moduleVersion("github.com/nats-io/nats-server/v2")
	if err != nil {
		t.Fatal(err)
	}
	var natsNames, auditbusNames []string
	for name, s := range p.Services {
		switch {
		case strings.HasPrefix(s.Image, "nats:"):
			natsNames = append(natsNames, name)
		case strings.HasPrefix(s.Image, "auditbus"):
			auditbusNames = append(auditbusNames, name)
		default:
			t.Errorf("service %s: image %s is neither NATS nor auditbus", name, s.Image)
		}
	}
	slices.Sort(natsNames)
	if len(natsNames) != 3 || len(auditbusNames) < 2 {
		t.Fatalf("NATS services %v, auditbus services %v: want 3 and at least 2", natsNames, auditbusNames)
	}
	volumes := map[string]string{}
	serverNames := map[string]bool{}
	for _, name := range natsNames {
		s := p.Services[name]
		if s.Image != "nats:"+strings.TrimPrefix(natsVersion, "v")+"-alpine" {
			t.Errorf("%s: image %s, auditbus is tested against nats-server %s", name, s.Image, natsVersion)
		}
		if len(s.Configs) != 1 || p.Configs[s.Configs[0].Source].File != conf {
			t.Errorf("%s: configs %v: want the shipped %s", name, s.Configs, conf)
			continue
		}
		opts := composeNATS(t, s, conf)
		var routes []string
		for _, r := range opts.Routes {
			routes = append(routes, r.Hostname())
		}
		if !slices.Equal(routes, natsNames) || !opts.JetStream || opts.StoreDir != natsStoreDir || serverNames[opts.ServerName] || opts.ServerName == "" {
			t.Errorf("%s: name %q, routes %v, JetStream %v in %s; want a name of its own, routes to %v, JetStream in %s",
				name, opts.ServerName, routes, opts.JetStream, opts.StoreDir, natsNames, natsStoreDir)
		}
		serverNames[opts.ServerName] = true
		checkComposeVolume(t, s, natsStoreDir, volumes)
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s: no healthcheck", name)
		}
	}
	for _, name := range auditbusNames {
		checkComposeAuditbus(t, p, name, natsNames, volumes)
	}
}

// composeNATS is how nats-server configures itself from a compose NATS
// service's command, the config file its configs entry mounts at the path
// the command names.
func composeNATS(t *testing.T, s types.ServiceConfig, conf string) *server.Options {
	t.Helper()
	args := slices.Clone([]string(s.Command))
	if len(args) == 0 || args[0] != "nats-server" {
		t.Fatalf("%s: command %q does not run nats-server", s.Name, args)
	}
	args = args[1:]
	if i := slices.Index(args, "--config"); i >= 0 && args[i+1] == s.Configs[0].Target {
		args[i+1] = conf
	} else {
		t.Fatalf("%s: --config is not the mounted %s", s.Name, s.Configs[0].Target)
	}
	opts, err := server.ConfigureOptions(flag.NewFlagSet("nats-server", flag.ContinueOnError), args, func() {}, func() {}, func() {})
	if err != nil {
		t.Fatalf("%s: nats-server %q: %v", s.Name, args, err)
	}
	return opts
}

// checkComposeVolume: the service has a named volume of its own at path.
func checkComposeVolume(t *testing.T, s types.ServiceConfig, path string, owners map[string]string) {
	for _, v := range s.Volumes {
		if v.Target == path && v.Type == types.VolumeTypeVolume {
			if other, ok := owners[v.Source]; ok {
				t.Errorf("%s and %s share volume %s", other, s.Name, v.Source)
			}
			owners[v.Source] = s.Name
			return
		}
	}
	t.Errorf("%s: no volume of its own at %s", s.Name, path)
}

func checkComposeAuditbus(t *testing.T, p *types.Project, name string, natsNames []string, volumes map[string]string) {
	s := p.Services[name]
	cmd := []string(s.Command)
	if s.Entrypoint != nil || len(cmd) == 0 || cmd[0] != "serve" {
		t.Errorf("%s: entrypoint %q, command %q: want the image's ENTRYPOINT and a command starting with serve", name, s.Entrypoint, cmd)
		return
	}
	if s.HealthCheck == nil || !slices.Equal(s.HealthCheck.Test[:3], []string{"CMD", "/auditbus", "health"}) {
		t.Errorf("%s: healthcheck %v: want the binary's own probe", name, s.HealthCheck)
	}
	for _, n := range natsNames {
		if s.DependsOn[n].Condition != types.ServiceConditionHealthy {
			t.Errorf("%s: does not wait for %s to be healthy", name, n)
		}
	}
	if !s.ReadOnly {
		t.Errorf("%s: root file system not read-only", name)
	}
	var secrets []string
	for _, sec := range s.Secrets {
		secrets = append(secrets, "/run/secrets/"+sec.Source)
	}
	for i, a := range cmd {
		switch {
		case strings.HasPrefix(a, "/run/secrets/") && !slices.Contains(secrets, a):
			t.Errorf("%s: %s is no secret the service is given", name, a)
		case a == "--data-dir":
			checkComposeVolume(t, s, cmd[i+1], volumes)
		case a == "--nats-url":
			for _, u := range strings.Split(cmd[i+1], ",") {
				host, _, _ := strings.Cut(strings.TrimPrefix(u, "nats://"), ":")
				if !slices.Contains(natsNames, host) {
					t.Errorf("%s: --nats-url names %s, no NATS service", name, host)
				}
			}
		}
	}
}

// TestComposeLoaderCatchesBreakage: the loader refuses a compose file
// with a misspelt key, so a pass of TestCompose means something.
func TestComposeLoaderCatchesBreakage(t *testing.T) {
	raw, err := os.ReadFile("../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), "compose.yaml")
	os.WriteFile(broken, []byte(strings.Replace(string(raw), "stop_grace_period:", "stop_grace_periods:", 1)), 0o644)
	if _, err := loadCompose(t, broken); err == nil || !strings.Contains(err.Error(), "stop_grace_periods") {
		t.Fatalf("loading a misspelt key: %v; want an error naming it", err)
	}
}
