package check

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// TestSchema checks every rendered object twice, as the API server would
// take it: decoded strictly into its k8s.io/api Go type (an unknown or
// duplicate field, a wrong type, a malformed quantity is an error, as with
// `kubectl apply --validate=strict`), and validated against the OpenAPI v3
// schema the Kubernetes release of those types publishes (required
// fields, enums, value types).
func TestSchema(t *testing.T) {
	for _, o := range render(t) {
		t.Run(o.String(), func(t *testing.T) {
			if err := decodeStrict(o.Raw); err != nil {
				t.Error(err)
			}
			if err := validateOpenAPI(t, o); err != nil {
				t.Error(err)
			}
		})
	}
}

var strictDecoder = sync.OnceValue(func() runtime.Decoder {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, networkingv1.AddToScheme, policyv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
})

// decodeStrict decodes raw into its registered type; a kind deploy/ does
// not use yet is an error until it is registered above.
func decodeStrict(raw []byte) error {
	_, _, err := strictDecoder().Decode(raw, nil, nil)
	return err
}

func validateOpenAPI(t *testing.T, o object) error {
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil {
		return err
	}
	s, err := openAPISchema(t, gv.WithKind(o.Kind))
	if err != nil {
		return err
	}
	res := validate.NewSchemaValidator(s, nil, "", strfmt.Default).Validate(o.Map)
	if res.HasErrors() {
		return fmt.Errorf("OpenAPI: %v", res.Errors)
	}
	return nil
}

// kubernetesSpecDir is api/openapi-spec/v3 of the k8s.io/kubernetes module
// of the release k8s.io/api comes from (v0.37.2 is Kubernetes v1.37.2),
// downloaded through the Go module proxy like any module.
var kubernetesSpecDir = sync.OnceValues(func() (string, error) {
	apiVersion, err := moduleVersion("k8s.io/api")
	if err != nil {
		return "", err
	}
	release, ok := strings.CutPrefix(apiVersion, "v0.")
	if !ok {
		return "", fmt.Errorf("k8s.io/api version %q is not v0.x", apiVersion)
	}
	out, err := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@v1."+release).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes@v1.%s: %w\n%s", release, err, out)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Error != "" {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes@v1.%s: %v %s", release, err, mod.Error)
	}
	return filepath.Join(mod.Dir, "api", "openapi-spec", "v3"), nil
})

var (
	specMu sync.Mutex
	specs  = map[string]map[string]*spec.Schema{} // by file: the components' schemas
)

// openAPISchema is gvk's schema from the spec file of its group version,
// with every $ref replaced by the schema it names (the validator takes no
// references).
func openAPISchema(t *testing.T, gvk schema.GroupVersionKind) (*spec.Schema, error) {
	dir, err := kubernetesSpecDir()
	if err != nil {
		t.Fatal(err)
	}
	file := "api__v1_openapi.json"
	if gvk.Group != "" {
		file = "apis__" + gvk.Group + "__" + gvk.Version + "_openapi.json"
	}
	specMu.Lock()
	defer specMu.Unlock()
	defs, ok := specs[file]
	if !ok {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("OpenAPI spec of %s: %w", gvk.GroupVersion(), err)
		}
		var doc spec3.OpenAPI
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		defs = doc.Components.Schemas
		specs[file] = defs
	}
	for name, s := range defs {
		if hasGVK(s, gvk) {
			return expand(s, defs, map[string]bool{name: true})
		}
	}
	return nil, fmt.Errorf("%s: no schema for %s", file, gvk)
}

func hasGVK(s *spec.Schema, gvk schema.GroupVersionKind) bool {
	l, _ := s.Extensions["x-kubernetes-group-version-kind"].([]any)
	for _, e := range l {
		m, _ := e.(map[string]any)
		if m["group"] == gvk.Group && m["version"] == gvk.Version && m["kind"] == gvk.Kind {
			return true
		}
	}
	return false
}

// expand returns a copy of s with its references resolved against defs
// (and the one adjustment below);
// a reference back into a schema being expanded (recursive types) is left
// open (accepts anything), which none of deploy/'s kinds has.
func expand(s *spec.Schema, defs map[string]*spec.Schema, open map[string]bool) (*spec.Schema, error) {
	if ref := s.Ref.String(); ref != "" {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		target, ok := defs[name]
		if !ok {
			return nil, fmt.Errorf("unresolved reference %s", ref)
		}
		if open[name] {
			return &spec.Schema{}, nil
		}
		open[name] = true
		defer delete(open, name)
		return expand(target, defs, open)
	}
	c := *s
	if c.Format == "int-or-string" {
		// The spec says int-or-string twice, as a format and as oneOf
		// integer or string; the validator would read the format as a
		// string format and refuse every integer, so the oneOf decides.
		c.Format = ""
	}
	var err error
	one := func(p *spec.Schema) *spec.Schema {
		if p == nil || err != nil {
			return p
		}
		var e *spec.Schema
		e, err = expand(p, defs, open)
		return e
	}
	many := func(l []spec.Schema) []spec.Schema {
		out := make([]spec.Schema, len(l))
		for i := range l {
			if e := one(&l[i]); e != nil {
				out[i] = *e
			}
		}
		return out
	}
	if c.Properties != nil {
		props := make(map[string]spec.Schema, len(c.Properties))
		for k, p := range c.Properties {
			if e := one(&p); e != nil {
				props[k] = *e
			}
		}
		c.Properties = props
	}
	if c.Items != nil {
		items := *c.Items
		items.Schema = one(items.Schema)
		items.Schemas = many(items.Schemas)
		c.Items = &items
	}
	if c.AdditionalProperties != nil {
		ap := *c.AdditionalProperties
		ap.Schema = one(ap.Schema)
		c.AdditionalProperties = &ap
	}
	c.AllOf, c.AnyOf, c.OneOf = many(c.AllOf), many(c.AnyOf), many(c.OneOf)
	c.Not = one(c.Not)
	return &c, err
}

// moduleVersion is the version of a dependency this module builds with
// (test binaries carry no build info to read it from).
func moduleVersion(path string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", path).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// TestSchemaCatchesBreakage: the two checks above find each mistake of
// testdata/broken, so a pass of TestSchema means something.
func TestSchemaCatchesBreakage(t *testing.T) {
	objs := renderDir(t, "testdata/broken")
	if len(objs) != 2 {
		t.Fatalf("rendered %d objects, want 2", len(objs))
	}
	var got []string
	for _, o := range objs {
		if err := decodeStrict(o.Raw); err != nil {
			got = append(got, err.Error())
		}
		if err := validateOpenAPI(t, o); err != nil {
			got = append(got, err.Error())
		}
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`unknown field "spec.replica"`,
		`spec.template.spec.containers[0].name in body is required`,
		`spec.ports[0].port in body must be of type integer`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("not reported: %s\ngot:\n%s", want, all)
		}
	}
}
