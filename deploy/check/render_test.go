package check

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// object is one rendered Kubernetes object as JSON decodes it (numbers
// float64), with its raw JSON for strict typed decoding.
type object struct {
	Kind, Name string
	APIVersion string
	Raw        []byte
	Map        map[string]any
}

func (o object) String() string { return o.Kind + "/" + o.Name }

// render builds deploy/kustomization.yaml as `kubectl apply -k deploy/`
// does (kustomize's defaults: files only from inside the kustomization's
// directory).
func render(t *testing.T) []object {
	t.Helper()
	return renderDir(t, "..")
}

func renderDir(t *testing.T, dir string) []object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []object
	for _, r := range m.Resources() {
		raw, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: %v", r.CurId(), err)
		}
		o := object{Kind: r.GetKind(), Name: r.GetName(), APIVersion: r.GetApiVersion(), Raw: raw}
		if err := json.Unmarshal(raw, &o.Map); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		out = append(out, o)
	}
	return out
}

// kinds returns the rendered objects of kind, in render order.
func kinds(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// only returns the single object of kind and name, failing otherwise.
func only(t *testing.T, objs []object, kind, name string) object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind && o.Name == name {
			return o
		}
	}
	t.Fatalf("no %s/%s rendered", kind, name)
	return object{}
}

// at walks a path of map keys and list indexes ("spec.template.spec").
func at(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func list(v any) []any { l, _ := v.([]any); return l }
func str(v any) string { s, _ := v.(string); return s }
func labels(v any) map[string]string {
	out := map[string]string{}
	for k, val := range asMap(v) {
		out[k] = str(val)
	}
	return out
}
func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

// selects reports whether a matchLabels selector selects pods with labels.
func selects(selector, podLabels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if podLabels[k] != v {
			return false
		}
	}
	return true
}

func strs(v any) []string {
	var out []string
	for _, e := range list(v) {
		out = append(out, str(e))
	}
	return out
}

// TestRenderHasTheParts: the kustomization renders the objects the
// deployment is made of, no more (a stray object would be applied too).
func TestRenderHasTheParts(t *testing.T) {
	var got []string
	for _, o := range render(t) {
		name := o.Name
		if o.Kind == "ConfigMap" { // generated: the name ends in a hash of the content
			name = name[:strings.LastIndex(name, "-")]
		}
		got = append(got, o.Kind+"/"+name)
	}
	slices.Sort(got)
	want := []string{"ConfigMap/auditbus-rules", "ConfigMap/nats-config", "Deployment/auditbus",
		"NetworkPolicy/auditbus", "NetworkPolicy/nats", "PodDisruptionBudget/auditbus", "PodDisruptionBudget/nats",
		"Service/auditbus", "Service/nats", "Service/nats-headless", "StatefulSet/nats"}
	if !slices.Equal(got, want) {
		t.Fatalf("rendered %v\nwant %v", got, want)
	}
}
