package ingest

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/rules"
)

// routerRules make the router read an event every way it can: a rule
// that matches anything (the scanner), one whose pattern reads data (the
// scanner inside data) and one with a condition over data (the full
// environment, which the slow path builds with json.Unmarshal).
const routerRules = `
name: all
pattern: {specversion: ["1.0"]}
targets: [{id: t, log: {}}]
---
name: data-pattern
pattern: {data: {k: [{exists: false}]}}
targets: [{id: t, log: {}}]
---
name: data-condition
condition: 'data == nil || data != nil'
targets: [{id: t, log: {}, input: '{"d": data, "s": subject}'}]
`

var routerSet = sync.OnceValues(func() (*rules.Set, error) {
	rs, err := rules.ParseFile("router.yaml", []byte(routerRules))
	if err != nil {
		return nil, err
	}
	return rules.Compile(rs)
})

// checkRouterReads asserts that the router can process an accepted event
// as it is stored: decode it (as fan-out and delivery do), match it
// without error, see JSON data as JSON rather than falling back to a
// string, and evaluate an input expression over it.
func checkRouterReads(t *testing.T, e event.Event) {
	t.Helper()
	set, err := routerSet()
	if err != nil {
		t.Fatalf("compile router rules: %v", err)
	}
	stored, err := cejson.Marshal(&e)
	if err != nil {
		t.Fatalf("accepted event does not write: %v", err)
	}
	res, err := set.Match("default", stored)
	if err != nil {
		t.Fatalf("router cannot match stored event %.200s: %v", stored, err)
	}
	if len(res.Rules) == 0 || res.Rules[0].Name != "all" {
		t.Fatalf("catch-all rule did not match %.200s (errors %v)", stored, res.Errors)
	}
	var decoded event.Event
	if err := cejson.Unmarshal(stored, &decoded); err != nil {
		t.Fatalf("router cannot decode stored event %.200s: %v", stored, err)
	}
	env := rules.NewEnv(&decoded)
	if d := decoded.Data(); len(d) > 0 && json.Valid(d) && d[0] != '"' && declaredJSON(&decoded) {
		if _, isString := env["data"].(string); isString {
			t.Fatalf("JSON data %.200s reaches rules as a string: the router could not parse it", d)
		}
	}
	for _, r := range res.Rules {
		if r.Name == "data-condition" {
			if _, err := r.Input("t", env); err != nil {
				t.Fatalf("input expression over an accepted event failed: %v", err)
			}
		}
	}
}

func declaredJSON(e *event.Event) bool {
	mt := ""
	if ct := e.DataContentType(); ct != "" {
		ctx := &event.EventContextV1{DataContentType: &ct}
		mt = mediaTypeOf(ctx)
	}
	return mt != "" && isJSONMediaType(mt)
}
