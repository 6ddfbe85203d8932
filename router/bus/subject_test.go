package bus

import (
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

func newEvent(t testing.TB, typ, source, id string, data any) *event.Event {
	t.Helper()
	e := event.New()
	e.SetType(typ)
	e.SetSource(source)
	e.SetID(id)
	if data != nil {
		if err := e.SetData(event.ApplicationJSON, data); err != nil {
			t.Fatal(err)
		}
	}
	return &e
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name   string
		bus    string
		event  *event.Event
		action string
		want   string
	}{
		{"tencent audit event", "default", newEvent(t, "tke:CloudEvent:ApiCall", "tke.cloud.tencent", "1", map[string]any{"eventName": "DeleteCluster"}), "",
			"auditbus.events.default.tke.ApiCall.DeleteCluster"},
		{"action extension wins over data", "prod", newEvent(t, "cvm:CloudEvent:ConsoleCall", "cvm.cloud.tencent", "2", map[string]any{"eventName": "X"}), "TerminateInstances",
			"auditbus.events.prod.cvm.ConsoleCall.TerminateInstances"},
		{"generic type, no action", "default", newEvent(t, "com.example.object.deleted", "/s3", "3", "text"), "",
			"auditbus.events.default._.com_example_object_deleted._"},
		{"wildcards and spaces sanitized", "default", newEvent(t, "a*b:CloudEvent:Api>Call", "x", "4", nil), "delete cluster.now",
			"auditbus.events.default.a_b.Api_Call.delete_cluster_now"},
		{"CTS trace as EventGrid names it", "default", newEvent(t, "VPC:CloudTrace:ConsoleAction", "HC.VPC", "6", nil), "deleteEip",
			"auditbus.events.default.VPC.ConsoleAction.deleteEip"},
		{"Kubernetes audit: kind K8sAudit, action the verb", "default", newEvent(t, "tke:K8sAudit:delete", "tke.k8s", "7", nil), "delete",
			"auditbus.events.default.tke.K8sAudit.delete"},
		{"unknown family is a generic type", "default", newEvent(t, "a:Other:b", "x", "8", nil), "",
			"auditbus.events.default._.a_Other_b._"},
		{"data array has no eventName", "default", newEvent(t, "tke:CloudEvent:ApiCall", "x", "5", []int{1}), "",
			"auditbus.events.default.tke.ApiCall._"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.action != "" {
				tt.event.SetExtension("action", tt.action)
			}
			if got := Subject(tt.bus, tt.event); got != tt.want {
				t.Errorf("Subject = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSubjectKindExtension: the kind extension names the kind of an audit
// type (a sender's own ObsSDK), but does not make a generic type an audit one.
func TestSubjectKindExtension(t *testing.T) {
	e := newEvent(t, "OBS:CloudTrace:ObsSDK", "HC.OBS", "1", nil)
	e.SetExtension("kind", "Other")
	if got, want := Subject("b", e), "auditbus.events.b.OBS.Other._"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	g := newEvent(t, "com.example.deleted", "/s", "2", nil)
	g.SetExtension("kind", "ApiCall")
	if got, want := Subject("b", g), "auditbus.events.b._.com_example_deleted._"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
}

func TestTokenBounds(t *testing.T) {
	long := strings.Repeat("x", 200)
	if got := Token(long); len(got) != maxToken {
		t.Errorf("len(Token(200 x)) = %d, want %d", len(got), maxToken)
	}
	if got := Token("é"); got != "__" {
		t.Errorf("Token(é) = %q, want two underscores (one per byte)", got)
	}
	if BusOf("auditbus.events.prod.tke.ApiCall.X") != "prod" || BusOf("other.subject") != "" {
		t.Error("BusOf does not extract the bus token")
	}
}

func TestMsgIDDependsOnBusSourceAndID(t *testing.T) {
	a := MsgID("default", newEvent(t, "t", "src", "1", nil))
	if a != MsgID("default", newEvent(t, "other-type", "src", "1", nil)) {
		t.Error("MsgID changed with type; it must depend on bus, source and id only")
	}
	if a == MsgID("default", newEvent(t, "t", "src", "2", nil)) || a == MsgID("default", newEvent(t, "t", "src1", "", nil)) {
		t.Error("MsgID collides for different source/id pairs")
	}
	if a == MsgID("other", newEvent(t, "t", "src", "1", nil)) {
		t.Error("MsgID is the same on two buses; the second bus would drop the event as a duplicate")
	}
}
