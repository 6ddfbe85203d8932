package rules

import (
	"slices"
	"testing"
)

func TestExactStrings(t *testing.T) {
	src := `name: r
pattern:
  type: ["tke:CloudEvent:ApiCall", {prefix: "ccr:"}]
  data:
    eventName: ["DeleteCluster", 3, {anything-but: "X"}]
  $or:
    - data: {eventName: ["BatchDeleteRepository"]}
    - source: ["tke.cloud.tencent"]
targets:
  - id: out
    log: {}
`
	rs, err := ParseFile("r.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if got := r.ExactStrings("data", "eventName"); !slices.Equal(got, []string{"DeleteCluster", "BatchDeleteRepository"}) {
		t.Errorf("data.eventName = %q", got)
	}
	if got := r.ExactStrings("type"); !slices.Equal(got, []string{"tke:CloudEvent:ApiCall"}) {
		t.Errorf("type = %q", got)
	}
	if got := r.ExactStrings("missing"); got != nil {
		t.Errorf("missing = %q, want nil", got)
	}
}
