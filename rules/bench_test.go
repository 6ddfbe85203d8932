package rules

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// BenchmarkMatch measures one realistic ~2 KB CloudAudit event against
// sets of 1 and 100 rules, most of which do not match, as in production.
func BenchmarkMatch(b *testing.B) {
	raw, err := os.ReadFile("testdata/bench/cloudaudit-event.json")
	if err != nil {
		b.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		b.Fatal(err)
	}
	stored := eventJSON(b, tkeEvent(b, data))
	for _, n := range []int{1, 100} {
		set := benchSet(b, n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := set.Match("default", stored)
				if err != nil || len(res.Errors) != 0 || len(res.Rules) == 0 {
					b.Fatalf("matched %d, errs %v %v", len(res.Rules), res.Errors, err)
				}
			}
		})
	}
}

func benchSet(b *testing.B, n int) *Set {
	var rs []*Rule
	for i := range n {
		pattern := fmt.Sprintf("type: [\"tke:CloudEvent:ApiCall\", \"tke:CloudEvent:ConsoleCall\"]\n"+
			"data:\n  eventName: [\"DeleteCluster\", \"Op%d\"]\n  errorCode: [0]\n"+
			"  userIdentity: {type: [{anything-but: \"root\"}]}", i)
		if i > 0 {
			pattern = fmt.Sprintf("source: [\"svc%d.cloud.tencent\"]\n", i) + pattern
		}
		r := mustRule(b, pattern, "")
		r.Name = fmt.Sprintf("rule-%d", i)
		rs = append(rs, r)
	}
	set, err := Compile(rs)
	if err != nil {
		b.Fatal(err)
	}
	return set
}
