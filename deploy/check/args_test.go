package check

import (
	"os"
	"slices"
	"testing"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestDeploymentArgsAsInSource: kustomize leaves the auditbus container's
// command and args as kubernetes/auditbus.yaml has them, which is what
// cmd/auditbus's TestDeployArgs runs with --check-config.
func TestDeploymentArgsAsInSource(t *testing.T) {
	f, err := os.Open("../kubernetes/auditbus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := k8syaml.NewYAMLOrJSONDecoder(f, 4096)
	var source map[string]any
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("no Deployment in kubernetes/auditbus.yaml: %v", err)
		}
		if doc["kind"] == "Deployment" {
			source = asMap(list(at(doc, "spec.template.spec.containers"))[0])
			break
		}
	}
	rendered := workloads([]object{only(t, render(t), "Deployment", "auditbus")})[0].containers[0]
	if rendered["command"] != nil || !slices.Equal(strs(rendered["args"]), strs(source["args"])) {
		t.Errorf("rendered command %v args %v; the source has args %v", rendered["command"], rendered["args"], source["args"])
	}
}
