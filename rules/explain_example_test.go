package rules_test

import (
	"fmt"

	"github.com/auditbus/auditbus/rules"
	"github.com/cloudevents/sdk-go/v2/event"
)

func ExampleRule_Explain() {
	rs, err := rules.ParseFile("tke.yaml", []byte(`
name: tke-cluster-deleted
pattern:
  type: ["tke:CloudEvent:ApiCall", "tke:CloudEvent:ConsoleCall"]
  data:
    eventName: ["DeleteCluster", {prefix: "DeleteCluster"}]
    errorCode: [0]
    userIdentity: {type: [{anything-but: "root"}]}
condition: 'data.userIdentity.principalId != "100001"'
targets:
  - id: stream-out
    nats: { subject: "alerts.tke" }
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := event.New()
	e.SetID("1")
	e.SetSource("tke.cloud.tencent")
	e.SetType("tke:CloudEvent:ApiCall")
	_ = e.SetData("application/json", map[string]any{
		"eventName":    "DescribeClusters",
		"userIdentity": map[string]any{"type": "CAMUser"},
	})
	x := rs[0].Explain(rules.NewEnv(&e))
	fmt.Print(x.Text())
	// Output:
	// rule tke-cluster-deleted (bus default): no match
	//   pass  type                     "tke:CloudEvent:ApiCall"   wants ["tke:CloudEvent:ApiCall", "tke:CloudEvent:ConsoleCall"]
	//   FAIL  data.eventName           "DescribeClusters"         wants ["DeleteCluster", {"prefix": "DeleteCluster"}]
	//   FAIL  data.errorCode           missing                    wants [0]
	//   pass  data.userIdentity.type   "CAMUser"                  wants [{"anything-but": "root"}]
	//   condition  skipped  data.userIdentity.principalId != "100001"
}
