package cts_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/sources"
	"github.com/auditbus/auditbus/rules"
)

// op is one operation as an independent reader of the seed sees it.
type op struct{ service, rtype, name, user, group, rating, ttype, code, apiv string }

// tencentCode is CloudAudit's errorCode for a CTS code: 0 for success, a
// failure's code as it is.
func tencentCode(code string) string {
	if code == "200" || code == "0" {
		return "0"
	}
	return code
}

// k8sCode is the response status code of the operation (HTTP, as CTS's).
func k8sCode(code string) string {
	if code == "0" {
		return "200"
	}
	return code
}

// tencentType is CloudAudit's eventType nearest each trace type.
var tencentType = map[string]string{"ApiCall": "ApiCall", "ConsoleAction": "ConsoleCall", "ConsoleCall": "ConsoleCall", "SystemAction": "ApiCall"}

// threeSources are the same kinds of operation as a CTS trace, a Tencent
// CloudAudit record and a Kubernetes audit event, normalized by the real
// sources, each with the op they describe.
func threeSources(t testing.TB, o op) []event.Event {
	t.Helper()
	ctsTrace := fmt.Sprintf(`{"trace_id":"c-%[1]s","trace_name":%[2]q,"trace_rating":%[3]q,"trace_type":%[4]q,"service_type":%[5]q,
	 "resource_type":%[6]q,"resource_name":"r","resource_id":"rid","code":%[7]q,"api_version":%[8]q,"time":1764640000000,
	 "user":{"name":%[9]q}}`, o.name+o.user, o.name, o.rating, o.ttype, o.service, o.rtype, o.code, o.apiv, o.user)
	tencent := fmt.Sprintf(`{"eventId":"t-%[1]s","eventName":%[2]q,"eventSource":"%[3]s.tencentcloudapi.com","eventType":%[4]q,
	 "eventTime":1764640000,"resourceType":%[5]q,"resourceName":"r","resourceId":"rid-t","errorCode":%[8]s,"apiVersion":%[6]q,
	 "userIdentity":{"principalId":%[7]q}}`, o.name+o.user, o.name, strings.ToLower(o.service), tencentType[o.ttype], o.rtype, o.apiv, o.user, tencentCode(o.code))
	k8s := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"k-%[1]s","stage":"ResponseComplete",
	 "requestURI":"/api/v1/pods/x","verb":%[2]q,"user":{"username":%[3]q,"groups":[%[4]q]},"objectRef":{"resource":%[5]q,"name":"x","apiVersion":"v1","uid":"rid-k"},
	 "responseStatus":{"code":%[6]s},"stageTimestamp":"2026-12-01T10:00:00Z","requestReceivedTimestamp":"2026-12-01T10:00:00Z"}`,
		o.name+o.user, o.name, o.user, o.group, o.rtype, k8sCode(o.code))
	red := sources.NewRedactor(sources.DefaultRedactKeys)
	var out []event.Event
	for _, f := range []func() ([]event.Event, error){
		func() ([]event.Event, error) { return sources.CTS([]byte(ctsTrace), red) },
		func() ([]event.Event, error) { return sources.CloudAudit([]byte(tencent), red) },
		func() ([]event.Event, error) {
			return sources.K8sAudit([]byte(k8s), "c1", strings.ToLower(o.service), red)
		},
	} {
		evs, err := f()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
	}
	return out
}

// expect is the notification's meaning read from the seed, evaluated on
// the extensions an event carries, without the rule engine.
func expect(n cts.Notification, groups map[string][]string, e *event.Event) bool {
	ext := func(k string) string { s, _ := e.Extensions()[k].(string); return s }
	service := strings.ToUpper(strings.Split(strings.TrimPrefix(e.Source(), "HC."), ".")[0])
	if n.Status != cts.StatusEnabled {
		return false
	}
	if n.OperationType == cts.OperationCustomized && !slices.ContainsFunc(n.Operations, func(o cts.Operation) bool {
		return strings.EqualFold(o.ServiceType, service) && strings.EqualFold(o.ResourceType, ext("resourcetype")) &&
			slices.ContainsFunc(o.TraceNames, func(tn string) bool { return strings.EqualFold(tn, ext("action")) })
	}) {
		return false
	}
	if len(n.NotifyUserList) > 0 {
		var d struct{ User struct{ Groups []string } }
		_ = json.Unmarshal(e.Data(), &d)
		in := false
		for _, u := range n.NotifyUserList {
			if len(u.UserList) > 0 {
				in = in || slices.Contains(u.UserList, ext("principal"))
			} else {
				in = in || slices.Contains(groups[u.UserGroup], ext("principal")) || slices.Contains(d.User.Groups, u.UserGroup)
			}
		}
		if !in {
			return false
		}
	}
	if n.Filter == nil || !n.Filter.IsSupportFilter {
		return true
	}
	// A filter tests the trace subscribers receive (the seed filters
	// traces): the fields as cts.ToTrace renders the event.
	trace := rendered(e)
	all, any := true, false
	for _, r := range n.Filter.Rule {
		f := strings.Fields(r)
		ok := (traceField(trace, f[0]) == f[2]) == (f[1] == "=")
		all, any = all && ok, any || ok
	}
	if n.Filter.Condition == cts.ConditionOR {
		return any
	}
	return all
}

func randomNotification(r *rand.Rand, id int) cts.Notification {
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	n := cts.Notification{NotificationID: fmt.Sprint(id), NotificationName: "n", Status: pick("enabled", "enabled", "disabled"),
		TopicID: "urn:smn:r:p:t", OperationType: pick("complete", "customized", "customized"), Operations: []cts.Operation{}}
	if n.OperationType == cts.OperationCustomized {
		for range 1 + r.IntN(2) {
			n.Operations = append(n.Operations, cts.Operation{ServiceType: pick("ECS", "ecs", "TKE", "CCE"),
				ResourceType: pick("server", "cluster", "pods"), TraceNames: []string{pick("deleteCluster", "DeleteCluster", "delete", "createServer")}})
		}
	}
	for range r.IntN(3) {
		var us []string
		for range r.IntN(3) {
			us = append(us, pick("alice", "bob", "carol"))
		}
		n.NotifyUserList = append(n.NotifyUserList, cts.NotificationUsers{UserGroup: pick("admin", "ops", "system:masters", "dev"), UserList: us})
	}
	if r.IntN(2) == 0 {
		var rs []string
		for range 1 + r.IntN(3) {
			switch key := pick("code", "api_version", "trace_rating", "trace_type", "resource_id", "resource_name"); key {
			case "trace_rating":
				rs = append(rs, key+pick(" = ", " != ")+pick("normal", "warning", "incident"))
			case "trace_type":
				rs = append(rs, key+pick(" = ", " != ")+pick("ApiCall", "ConsoleAction", "SystemAction"))
			default:
				rs = append(rs, key+pick(" = ", " != ")+pick("200", "404", "0", "v3", "v1", "2018-05-25", "rid", "rid-t", "rid-k", "r", "x"))
			}
		}
		n.Filter = &cts.Filter{Condition: pick("AND", "OR"), IsSupportFilter: r.IntN(4) != 0, Rule: rs}
	}
	return n
}

// TestNotificationRulesAgreeWithSeed: random notifications (complete and
// customized, AND and OR, = and !=, users and groups, enabled and
// disabled), compiled to rules and matched by the engine, against events
// of all three sources, agree with expect.
func TestNotificationRulesAgreeWithSeed(t *testing.T) {
	groups := map[string][]string{"ops": {"carol"}}
	var evs []event.Event
	for _, o := range []op{
		{"CCE", "cluster", "deleteCluster", "alice", "system:masters", "warning", "ApiCall", "200", "v3"},
		{"TKE", "cluster", "DeleteCluster", "bob", "dev", "normal", "ConsoleCall", "0", "2018-05-25"},
		{"ECS", "server", "createServer", "carol", "ops", "normal", "ConsoleAction", "404", "v1"},
		{"CCE", "pods", "delete", "dave", "admin", "incident", "SystemAction", "500", "v1"},
		{"TKE", "cluster", "DeleteCluster", "erin", "dev", "warning", "ApiCall", "404", "v1"},
	} {
		evs = append(evs, threeSources(t, o)...)
	}
	r := rand.New(rand.NewPCG(1, 2))
	checked, matched := 0, 0
	for i := range 300 {
		n := randomNotification(r, i)
		rs, err := rules.ParseFile("n.json", n.RuleDocument(func(g string) []string { return groups[g] }))
		if err != nil {
			t.Fatalf("notification %+v: %v", n, err)
		}
		set, _ := rules.Compile(rs)
		for j := range evs {
			raw, _ := cejson.Marshal(&evs[j])
			res, err := set.Match("default", raw)
			if err != nil {
				t.Fatal(err)
			}
			got, want := len(res.Rules) == 1, expect(n, groups, &evs[j])
			if got != want {
				nj, _ := json.Marshal(n)
				t.Fatalf("notification %s\nevent %s\nrule matched %v, seed says %v (errors %v)", nj, raw, got, want, res.Errors)
			}
			checked++
			if got {
				matched++
			}
		}
	}
	if matched == 0 || matched == checked {
		t.Fatalf("%d of %d matched: the cases do not tell matching from not", matched, checked)
	}
	t.Logf("%d of %d (notification, event) pairs matched", matched, checked)
}

// rendered is event e as subscribers receive it: cts.ToTrace of its
// index record.
func rendered(e *event.Event) cts.Trace {
	raw, _ := cejson.Marshal(e)
	rec, err := index.FromMessage(1, bus.Subject("default", e), raw, time.Time{})
	if err != nil {
		panic(err)
	}
	return cts.ToTrace(rec)
}

// traceField is filter key's field of trace.
func traceField(t cts.Trace, key string) string {
	return map[string]string{"api_version": t.APIVersion, "code": t.Code, "trace_rating": t.TraceRating,
		"trace_type": t.TraceType, "resource_id": t.ResourceID, "resource_name": t.ResourceName}[key]
}

// TestNotificationFilterIsTheTrace: for an event of each source, success
// and failure, and each filter key, "key = v" fires exactly when v is
// what the trace subscribers receive has in that field, and "key != v"
// exactly when it is not (Tencent and Kubernetes records carry no
// rating; their traces are rated normal, or warning on failure, and the
// filter must agree).
func TestNotificationFilterIsTheTrace(t *testing.T) {
	var evs []event.Event
	for _, o := range []op{
		{"CCE", "cluster", "deleteCluster", "alice", "g", "normal", "ApiCall", "200", "v3"},
		{"CCE", "cluster", "deleteCluster", "bob", "g", "incident", "ConsoleAction", "403", "v1"},
	} {
		evs = append(evs, threeSources(t, o)...)
	}
	values := map[string][]string{
		"trace_rating": {"normal", "warning", "incident"}, "trace_type": {"ApiCall", "ConsoleAction", "SystemAction"},
		"code": {"200", "0", "403"}, "api_version": {"v3", "v1"}, "resource_id": {"rid", "rid-t", "rid-k"}, "resource_name": {"r", "x"},
	}
	for i := range evs {
		e := &evs[i]
		trace := rendered(e)
		raw, _ := cejson.Marshal(e)
		for key, vs := range values {
			fired := false
			for _, v := range vs {
				for _, neg := range []bool{false, true} {
					rule := key + " = " + v
					if neg {
						rule = key + " != " + v
					}
					n := cts.Notification{NotificationID: "1", NotificationName: "n", Status: cts.StatusEnabled, TopicID: "urn:smn:r:p:t",
						OperationType: cts.OperationComplete, Filter: &cts.Filter{Condition: cts.ConditionAND, IsSupportFilter: true, Rule: []string{rule}}}
					rs, err := rules.ParseFile("n.json", n.RuleDocument(nil))
					if err != nil {
						t.Fatal(err)
					}
					set, _ := rules.Compile(rs)
					res, err := set.Match("default", raw)
					if err != nil {
						t.Fatal(err)
					}
					got, want := len(res.Rules) == 1, (traceField(trace, key) == v) != neg
					if got != want {
						t.Errorf("%s event %s: filter %q fired %v, but its trace has %s %q", e.Source(), e.ID(), rule, got, key, traceField(trace, key))
					}
					fired = fired || (got && !neg)
				}
			}
			if !fired && traceField(trace, key) != "" && slices.Contains(vs, traceField(trace, key)) {
				t.Errorf("%s event %s: no value of %s fired", e.Source(), e.ID(), key)
			}
		}
	}
}
