package cts_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/rules"
)

// BenchmarkNotificationMatch: ns per event with 10 and 10,000 customized
// notifications loaded (each on its own operation), on an event one of
// them matches; the ratio of the two is what router/README.md reports.
func BenchmarkNotificationMatch(b *testing.B) {
	evs := threeSources(b, op{"CCE", "cluster", "deleteCluster7", "alice", "ops", "normal", "ApiCall", "200", "v3"})
	raw, _ := cejson.Marshal(&evs[0])
	for _, n := range []int{10, 10000} {
		var rs []*rules.Rule
		for i := range n {
			nt := cts.Notification{NotificationID: fmt.Sprint(i), NotificationName: "n", Status: cts.StatusEnabled,
				TopicID: "urn:smn:r:p:t", OperationType: cts.OperationCustomized,
				Operations: []cts.Operation{{ServiceType: "CCE", ResourceType: "cluster", TraceNames: []string{fmt.Sprintf("deleteCluster%d", i)}}},
				Filter:     &cts.Filter{Condition: "AND", IsSupportFilter: true, Rule: []string{"code = 200"}}}
			parsed, err := rules.ParseFile("n", nt.RuleDocument(nil))
			if err != nil {
				b.Fatal(err)
			}
			rs = append(rs, parsed...)
		}
		set, err := rules.Compile(rs)
		if err != nil {
			b.Fatal(err)
		}
		rs = nil
		runtime.GC() // the parse's garbage is not the matching's cost
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if res, _ := set.Match("default", raw); len(res.Rules) != 1 {
					b.Fatalf("%d matches", len(res.Rules))
				}
			}
		})
	}
}
