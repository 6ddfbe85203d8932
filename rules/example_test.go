package rules_test

import (
	"encoding/json"
	"fmt"

	"github.com/auditbus/auditbus/rules"
	"github.com/cloudevents/sdk-go/v2/event"
)

const exampleRules = `
name: tke-cluster-deleted
pattern:
  type: ["tke:CloudEvent:ApiCall"]
  data:
    eventName: [{prefix: "Delete"}]
    errorCode: [0]
condition: 'data.userIdentity.type != "root"'
targets:
  - id: stream-out
    nats: { subject: "alerts.tke" }
`

func ExampleParseFile() {
	rs, err := rules.ParseFile("tke.yaml", []byte(exampleRules))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rs[0].Name, rs[0].Bus, rs[0].Targets[0].Kind)
	fmt.Println(rs[0].Expr())

	_, err = rules.ParseFile("bad.yaml", []byte("name: x\npattern: {type: [{wildcard: \"a**\"}]}\ntargets: [{id: t, log: {}}]\n"))
	fmt.Println(err)
	// Output:
	// tke-cluster-deleted default nats
	// any(at($env, "type"), # == "tke:CloudEvent:ApiCall") && any(objs($env, "data"), let _g1 = #; any(at(_g1, "eventName"), isString(#) && # startsWith "Delete") && any(at(_g1, "errorCode"), # == 0)) && (
	// data.userIdentity.type != "root"
	// )
	// bad.yaml:2:29: rule "x": wildcard: consecutive * are not allowed
}

func ExampleSet_Match() {
	rs, err := rules.ParseFile("tke.yaml", []byte(exampleRules))
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := rules.Compile(rs)
	if err != nil {
		fmt.Println(err)
		return
	}
	e := event.New()
	e.SetID("1")
	e.SetSource("tke.cloud.tencent")
	e.SetType("tke:CloudEvent:ApiCall")
	_ = e.SetData("application/json", map[string]any{
		"eventName":    "DeleteCluster",
		"errorCode":    0,
		"userIdentity": map[string]any{"type": "CAMUser"},
	})
	stored, err := json.Marshal(&e) // events are stored in structured JSON form
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := set.Match("default", stored)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rules {
		fmt.Println("matched", r.Name)
	}
	fmt.Println("errors:", len(res.Errors))
	// Output:
	// matched tke-cluster-deleted
	// errors: 0
}
