package replay_test

import (
	"encoding/json"
	"testing"

	"github.com/auditbus/auditbus/router/replay"
	"github.com/auditbus/auditbus/rules"
)

// FuzzArchiveEvent: whatever an archive file holds, turning a trace into
// an event fails with an error or yields a CloudEvent the rules read.
func FuzzArchiveEvent(f *testing.F) {
	f.Add([]byte(`{"trace_id":"t1","trace_name":"deleteVpc","service_type":"VPC","time":1700000000000,"user":{"name":"a"}}`))
	f.Add([]byte(`{"trace_id":"t1","trace_name":"x","service_type":"VPC","trace_type":"Api Call"}`))
	f.Add([]byte(`[{"trace_id":"a"},{"trace_id":"b"}]`))
	f.Add([]byte(`{"trace_id":"t","trace_name":"n","service_type":"ECS","time":"17","code":404,"request":{"a":[1,2]}}`))
	// A rule on the bus: with none, Match would not read the event.
	set, err := rules.Compile(parse(f, "name: r\npattern: {source: [{prefix: HC.}]}\ntargets: [{id: t, log: {}}]\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, trace []byte) {
		data, err := replay.ArchiveEvent(trace)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("not JSON: %q", data)
		}
		if _, err := set.Match("default", data); err != nil {
			t.Fatalf("the rules cannot read %q: %v", data, err)
		}
	})
}
