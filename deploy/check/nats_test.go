package check

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus"
)

// natsNode is how nats-server would configure itself in pod ordinal of
// the rendered StatefulSet: the container's args with $(POD_NAME)
// expanded as the kubelet does, and the config file the ConfigMap mounts
// written under dir at the path the args name.
func natsNode(t *testing.T, objs []object, ordinal int, dir string) (*server.Options, workload) {
	t.Helper()
	w := workloads([]object{only(t, objs, "StatefulSet", "nats")})[0]
	c := w.containers[0]
	if got := strs(c["command"]); !slices.Equal(got, []string{"nats-server"}) {
		t.Fatalf("NATS command %q, want [nats-server]", got)
	}
	var conf string
	for _, cm := range kinds(objs, "ConfigMap") {
		if strings.HasPrefix(cm.Name, "nats-config-") {
			conf = str(asMap(cm.Map["data"])["nats-cluster.conf"])
		}
	}
	if conf == "" {
		t.Fatal("no nats-config ConfigMap holding nats-cluster.conf")
	}
	pod := fmt.Sprintf("%s-%d", w.Name, ordinal)
	var args []string
	for _, a := range strs(c["args"]) {
		a = strings.ReplaceAll(a, "$(POD_NAME)", pod)
		if filepath.IsAbs(a) {
			a = filepath.Join(dir, a)
			if err := os.MkdirAll(filepath.Dir(a), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(a, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		args = append(args, a)
	}
	fs := flag.NewFlagSet("nats-server", flag.ContinueOnError)
	opts, err := server.ConfigureOptions(fs, args, func() {}, func() {}, func() {})
	if err != nil {
		t.Fatalf("nats-server %q: %v", args, err)
	}
	return opts, w
}

func containerPort(w workload, name string) int {
	for _, p := range list(w.containers[0]["ports"]) {
		if asMap(p)["name"] == name {
			return int(asMap(p)["containerPort"].(float64))
		}
	}
	return -1
}

// TestNATSNodes: each node of the StatefulSet, as nats-server parses its
// command line over the shipped config, has its pod's name, routes to
// every pod through the headless Service on the cluster port, JetStream
// in the store_dir the volume is mounted at, the ports the pod declares,
// auditbus's nkey user and room for its largest event (max_payload); the headless Service publishes not-ready pods
// (the nodes must find each other to become ready); the image is the
// nats-server release of auditbus's tests.
func TestNATSNodes(t *testing.T) {
	objs := render(t)
	_, w := natsNode(t, objs, 0, t.TempDir())
	svcName := str(at(w.Map, "spec.serviceName"))
	svc := only(t, objs, "Service", svcName)
	if str(at(svc.Map, "spec.clusterIP")) != "None" || at(svc.Map, "spec.publishNotReadyAddresses") != true {
		t.Errorf("%s: want a headless Service publishing not-ready addresses", svc)
	}
	var wantRoutes []string
	for i := range w.replicas {
		wantRoutes = append(wantRoutes, fmt.Sprintf("%s-%d.%s:%d", w.Name, i, svcName, containerPort(w, "cluster")))
	}
	for i := range w.replicas {
		opts, _ := natsNode(t, objs, i, t.TempDir())
		var routes []string
		for _, r := range opts.Routes {
			routes = append(routes, r.Host)
		}
		pod := fmt.Sprintf("%s-%d", w.Name, i)
		for what, got := range map[string][2]any{
			"server name":     {opts.ServerName, pod},
			"routes":          {strings.Join(routes, ","), strings.Join(wantRoutes, ",")},
			"JetStream":       {opts.JetStream, true},
			"store dir":       {opts.StoreDir, natsStoreDir},
			"client port":     {opts.Port, containerPort(w, "client")},
			"cluster port":    {opts.Cluster.Port, containerPort(w, "cluster")},
			"monitoring port": {opts.HTTPPort, containerPort(w, "monitor")},
			"nkey users":      {len(opts.Nkeys), 1},
			"no anonymous":    {opts.NoAuthUser, ""},
		} {
			if got[0] != got[1] {
				t.Errorf("%s: %s %v, want %v", pod, what, got[0], got[1])
			}
		}
		if opts.Cluster.Name == "" {
			t.Errorf("%s: no cluster name", pod)
		}
		if need := bus.PayloadFor(api.DefaultMaxBodyBytes); opts.MaxPayload < need {
			t.Errorf("%s: max_payload %d, below the %d an event of --max-body-bytes %d needs", pod, opts.MaxPayload, need, api.DefaultMaxBodyBytes)
		}
	}
	want, err := moduleVersion("github.com/nats-io/nats-server/v2")
	if err != nil {
		t.Fatal(err)
	}
	if img := str(w.containers[0]["image"]); img != "nats:"+strings.TrimPrefix(want, "v")+"-alpine" {
		t.Errorf("NATS image %s; auditbus is tested against nats-server %s", img, want)
	}
}

// TestAuditbusReachesNATS: the Deployment's --nats-url names the NATS
// client Service and its port, and the NATS NetworkPolicy lets auditbus's
// pods reach that port.
func TestAuditbusReachesNATS(t *testing.T) {
	objs := render(t)
	ab := workloads([]object{only(t, objs, "Deployment", "auditbus")})[0]
	args := strs(ab.containers[0]["args"])
	i := slices.Index(args, "--nats-url")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("auditbus args %q have no --nats-url", args)
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(args[i+1], "nats://"), ":")
	svc := only(t, objs, "Service", host)
	var target any
	for _, p := range list(at(svc.Map, "spec.ports")) {
		if fmt.Sprint(asMap(p)["port"]) == port {
			target = asMap(p)["targetPort"]
		}
	}
	nats := selected(workloads(objs), labels(at(svc.Map, "spec.selector")))
	if target == nil || len(nats) != 1 || !nats[0].hasPort(target) {
		t.Fatalf("--nats-url %s: Service %s has no port %s reaching NATS pods", args[i+1], host, port)
	}
	allowed := false
	for _, np := range kinds(objs, "NetworkPolicy") {
		if !selects(labels(at(np.Map, "spec.podSelector.matchLabels")), nats[0].podLabels) {
			continue
		}
		for _, rule := range list(at(np.Map, "spec.ingress")) {
			for _, from := range list(asMap(rule)["from"]) {
				if !selects(labels(at(from, "podSelector.matchLabels")), ab.podLabels) {
					continue
				}
				for _, p := range list(asMap(rule)["ports"]) {
					if fmt.Sprint(asMap(p)["port"]) == port {
						allowed = true
					}
				}
			}
		}
	}
	if !allowed {
		t.Errorf("no NetworkPolicy lets auditbus pods reach NATS on %s", port)
	}
}
