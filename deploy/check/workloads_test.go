package check

import (
	"fmt"
	"slices"
	"testing"
)

// workload is a Deployment or StatefulSet with its pod template.
type workload struct {
	object
	replicas   int
	podLabels  map[string]string
	pod        map[string]any // spec.template.spec
	containers []map[string]any
}

func workloads(objs []object) []workload {
	var out []workload
	for _, o := range objs {
		if o.Kind != "Deployment" && o.Kind != "StatefulSet" {
			continue
		}
		w := workload{object: o, podLabels: labels(at(o.Map, "spec.template.metadata.labels")),
			pod: asMap(at(o.Map, "spec.template.spec"))}
		if r, ok := at(o.Map, "spec.replicas").(float64); ok {
			w.replicas = int(r)
		}
		for _, c := range list(w.pod["containers"]) {
			w.containers = append(w.containers, asMap(c))
		}
		out = append(out, w)
	}
	return out
}

// selected are the workloads whose pods a matchLabels selector selects.
func selected(ws []workload, selector map[string]string) []workload {
	var out []workload
	for _, w := range ws {
		if selects(selector, w.podLabels) {
			out = append(out, w)
		}
	}
	return out
}

// hasPort reports whether one of w's containers declares port, given by
// number (float64 from JSON) or by name.
func (w workload) hasPort(port any) bool {
	for _, c := range w.containers {
		for _, p := range list(c["ports"]) {
			pm := asMap(p)
			if pm["containerPort"] == port || (str(port) != "" && pm["name"] == port) {
				return true
			}
		}
	}
	return false
}

// TestSelectorsMatchPods: every selector selects the pods it is for, and
// every port a Service, a NetworkPolicy or a probe names is one the pods
// declare; every workload has a PodDisruptionBudget and a NetworkPolicy.
func TestSelectorsMatchPods(t *testing.T) {
	objs := render(t)
	ws := workloads(objs)
	if len(ws) != 2 {
		t.Fatalf("%d workloads, want 2 (NATS and auditbus)", len(ws))
	}
	covered := map[string][]string{}
	for _, w := range ws {
		if !selects(labels(at(w.Map, "spec.selector.matchLabels")), w.podLabels) {
			t.Errorf("%s: selector %v does not select its pods %v", w, at(w.Map, "spec.selector.matchLabels"), w.podLabels)
		}
		for _, c := range w.containers {
			for _, kind := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
				if port := at(c, kind+".httpGet.port"); port != nil && !w.hasPort(port) {
					t.Errorf("%s: %s port %v is no container port", w, kind, port)
				}
			}
		}
	}
	for _, o := range objs {
		var sel map[string]string
		switch o.Kind {
		case "Service":
			sel = labels(at(o.Map, "spec.selector"))
		case "PodDisruptionBudget", "NetworkPolicy":
			key := map[string]string{"PodDisruptionBudget": "spec.selector.matchLabels", "NetworkPolicy": "spec.podSelector.matchLabels"}[o.Kind]
			sel = labels(at(o.Map, key))
		default:
			continue
		}
		pods := selected(ws, sel)
		if len(pods) != 1 {
			t.Errorf("%s: selector %v selects %d workloads' pods, want 1", o, sel, len(pods))
			continue
		}
		covered[pods[0].String()] = append(covered[pods[0].String()], o.Kind)
		for _, port := range servicePorts(o) {
			if !pods[0].hasPort(port) {
				t.Errorf("%s: port %v is no container port of %s", o, port, pods[0])
			}
		}
		if o.Kind == "NetworkPolicy" {
			checkPolicyPeers(t, o, ws)
		}
	}
	for _, w := range ws {
		for _, kind := range []string{"PodDisruptionBudget", "NetworkPolicy", "Service"} {
			if !slices.Contains(covered[w.String()], kind) {
				t.Errorf("%s: no %s selects its pods", w, kind)
			}
		}
	}
}

// servicePorts are the pod ports a Service targets or a NetworkPolicy
// opens.
func servicePorts(o object) []any {
	var out []any
	switch o.Kind {
	case "Service":
		for _, p := range list(at(o.Map, "spec.ports")) {
			out = append(out, asMap(p)["targetPort"])
		}
	case "NetworkPolicy":
		for _, rule := range list(at(o.Map, "spec.ingress")) {
			for _, p := range list(asMap(rule)["ports"]) {
				out = append(out, asMap(p)["port"])
			}
		}
	}
	return out
}

// checkPolicyPeers: every `from` pod selector selects pods of the render
// (a typo there would shut the port for everyone).
func checkPolicyPeers(t *testing.T, o object, ws []workload) {
	for i, rule := range list(at(o.Map, "spec.ingress")) {
		for _, from := range list(asMap(rule)["from"]) {
			sel := labels(at(from, "podSelector.matchLabels"))
			if len(selected(ws, sel)) == 0 {
				t.Errorf("%s: ingress[%d] from pods %v: no such pods", o, i, sel)
			}
		}
	}
}

// TestPodsLockedDown: every container runs as non-root, on a read-only
// root file system, without privilege escalation or capabilities; the
// auditbus Deployment runs at least two replicas and NATS three.
func TestPodsLockedDown(t *testing.T) {
	for _, w := range workloads(render(t)) {
		podSC := asMap(w.pod["securityContext"])
		for _, c := range w.containers {
			sc := asMap(c["securityContext"])
			where := fmt.Sprintf("%s container %s", w, str(c["name"]))
			if sc["runAsNonRoot"] != true && podSC["runAsNonRoot"] != true {
				t.Errorf("%s: may run as root", where)
			}
			if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false {
				t.Errorf("%s: readOnlyRootFilesystem %v, allowPrivilegeEscalation %v", where, sc["readOnlyRootFilesystem"], sc["allowPrivilegeEscalation"])
			}
			if !slices.Equal(strs(at(sc, "capabilities.drop")), []string{"ALL"}) {
				t.Errorf("%s: capabilities not dropped", where)
			}
		}
	}
	if ws := workloads(render(t)); len(ws) == 2 {
		for _, w := range ws {
			want := map[string]int{"Deployment": 2, "StatefulSet": 3}[w.Kind]
			if w.replicas < want {
				t.Errorf("%s: %d replicas, want at least %d", w, w.replicas, want)
			}
		}
	}
}
