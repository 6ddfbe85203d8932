package rules

import (
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

func TestPatternSemantics(t *testing.T) {
	data := map[string]any{
		"eventName":       "DeleteCluster",
		"errorCode":       0,
		"latency":         3e2,
		"ratio":           0.5,
		"nullField":       nil,
		"flag":            true,
		"zeroString":      "0",
		"sourceIPAddress": "10.1.2.3",
		"userIdentity":    map[string]any{"type": "CAMUser", "principalId": "100001"},
		"tags":            []any{"prod", "team-a"},
		"resources": []any{
			map[string]any{"type": "cluster", "id": "cls-1"},
			map[string]any{"type": "node", "id": "ins-2"},
		},
		"empty":     []any{},
		"v6":        []any{"2001:db8::7", "::ffff:10.9.8.7"},
		"negZero":   -0.0,
		"greek":     "ΣΊΣΥΦΟΣ",
		"nested":    []any{[]any{"deep"}},
		"zeroPadIP": "010.001.002.003",
	}
	e := tkeEvent(t, data)
	cases := []struct {
		name, pattern string
		want          bool
	}{
		{"empty pattern", "", true},
		{"type exact", `type: ["tke:CloudEvent:ApiCall"]`, true},
		{"type other", `type: ["tke:CloudEvent:ConsoleCall"]`, false},
		{"fields are ANDed", "type: [\"tke:CloudEvent:ApiCall\"]\nsource: [\"cvm.cloud.tencent\"]", false},
		{"values are ORed", `data: {eventName: ["CreateCluster", "DeleteCluster"]}`, true},
		{"number 0 matches int 0", `data: {errorCode: [0]}`, true},
		{"number 0.0 matches 0", `data: {errorCode: [0.0]}`, true},
		{"300 matches 3e2", `data: {latency: [300]}`, true},
		{"string 0 never equals number", `data: {errorCode: ["0"]}`, false},
		{"number never equals string 0", `data: {zeroString: [0]}`, false},
		{"mixed list string and number", `data: {zeroString: [1, "0"]}`, true},
		{"bool", `data: {flag: [true]}`, true},
		{"bool is not 1", `data: {flag: [1]}`, false},
		{"null matches null", `data: {nullField: [null]}`, true},
		{"null does not match missing", `data: {missing: [null]}`, false},
		{"nested field", `data: {userIdentity: {type: ["CAMUser"]}}`, true},
		{"prefix", `data: {eventName: [{prefix: "Delete"}]}`, true},
		{"prefix on number is false", `data: {errorCode: [{prefix: "0"}]}`, false},
		{"suffix", `source: [{suffix: ".cloud.tencent"}]`, true},
		{"extension", `region: ["ap-guangzhou"]`, true},
		{"anything-but value", `data: {eventName: [{anything-but: "CreateCluster"}]}`, true},
		{"anything-but excluded", `data: {eventName: [{anything-but: ["DeleteCluster", 3]}]}`, false},
		{"anything-but number vs string", `data: {errorCode: [{anything-but: ["0"]}]}`, true},
		{"anything-but prefix", `data: {eventName: [{anything-but: {prefix: "Describe"}}]}`, true},
		{"anything-but prefix excluded", `data: {eventName: [{anything-but: {prefix: "Delete"}}]}`, false},
		{"anything-but suffix", `data: {eventName: [{anything-but: {suffix: "Cluster"}}]}`, false},
		{"anything-but missing field", `data: {missing: [{anything-but: "x"}]}`, false},
		{"anything-but null value", `data: {nullField: [{anything-but: "x"}]}`, true},
		{"anything-but array none excluded", `data: {tags: [{anything-but: ["dev"]}]}`, true},
		{"anything-but array, another element passes", `data: {tags: [{anything-but: ["prod"]}]}`, true},
		{"anything-but array, every element excluded", `data: {tags: [{anything-but: ["prod", "team-a"]}]}`, false},
		{"numeric range", `data: {latency: [{numeric: [">", 0, "<=", 300]}]}`, true},
		{"numeric open bound", `data: {latency: [{numeric: [">", 300]}]}`, false},
		{"numeric equals", `data: {ratio: [{numeric: ["=", 0.5]}]}`, true},
		{"numeric on string", `data: {zeroString: [{numeric: [">=", 0]}]}`, false},
		{"exists true", `data: {eventName: [{exists: true}]}`, true},
		{"exists true on null", `data: {nullField: [{exists: true}]}`, true},
		{"exists true on missing", `data: {missing: [{exists: true}]}`, false},
		{"exists false on missing", `data: {missing: [{exists: false}]}`, true},
		{"exists false on present", `data: {eventName: [{exists: false}]}`, false},
		{"exists false on empty array", `data: {empty: [{exists: false}]}`, true},
		{"exists false under missing parent", `data: {nope: {deeper: [{exists: false}]}}`, true},
		{"array any element", `data: {tags: ["team-a"]}`, true},
		{"array no element", `data: {tags: ["team-b"]}`, false},
		{"array of objects", `data: {resources: {type: ["node"]}}`, true},
		{"array of objects no match", `data: {resources: {type: ["disk"]}}`, false},
		{"equals-ignore-case", `data: {eventName: [{equals-ignore-case: "deletecluster"}]}`, true},
		{"wildcard", `subject: [{wildcard: "qcs::tke:*:cluster/cls-*"}]`, true},
		{"wildcard no match", `subject: [{wildcard: "qcs::cvm:*"}]`, false},
		{"wildcard escaped star", `data: {eventName: [{wildcard: "Delete\\*"}]}`, false},
		{"cidr", `data: {sourceIPAddress: [{cidr: "10.0.0.0/8"}]}`, true},
		{"cidr outside", `data: {sourceIPAddress: [{cidr: "192.168.0.0/16"}]}`, false},
		{"cidr on non-ip", `data: {eventName: [{cidr: "10.0.0.0/8"}]}`, false},
		{"$or first", "$or:\n  - type: [\"x\"]\n  - data: {eventName: [\"DeleteCluster\"]}", true},
		{"$or none", "$or:\n  - type: [\"x\"]\n  - data: {eventName: [\"y\"]}", false},
		{"$or nested", "data:\n  $or:\n    - errorCode: [1]\n    - userIdentity: {type: [\"CAMUser\"]}", true},
		{"data object is no leaf value", `data: [{exists: false}]`, true},
		{"wildcard leading and trailing", `subject: [{wildcard: "*cluster*"}]`, true},
		{"wildcard parts in order", `subject: [{wildcard: "*cls-*tke*"}]`, false},
		{"wildcard overlapping parts", `data: {eventName: [{wildcard: "De*et*"}]}`, true},
		{"wildcard whole string", `data: {eventName: [{wildcard: "*"}]}`, true},
		{"wildcard on number", `data: {errorCode: [{wildcard: "*"}]}`, false},
		{"cidr IPv6", `data: {v6: [{cidr: "2001:db8::/32"}]}`, true},
		{"cidr IPv4-mapped IPv6", `data: {v6: [{cidr: "10.0.0.0/8"}]}`, true},
		{"numeric on null", `data: {nullField: [{numeric: [">=", 0]}]}`, false},
		{"anything-but number on null", `data: {nullField: [{anything-but: [0]}]}`, true},
		{"anything-but null excluded", `data: {nullField: [{anything-but: [null]}]}`, false},
		{"exists false on null", `data: {nullField: [{exists: false}]}`, false},
		{"negative zero equals zero", `data: {negZero: [0]}`, true},
		{"1e0 equals 1 as numbers", `data: {flag: [1e0]}`, false},
		{"equals-ignore-case beyond ASCII", `data: {greek: [{equals-ignore-case: "σίσυφος"}]}`, true},
		{"prefix on array element", `data: {tags: [{prefix: "team-"}]}`, true},
		{"nested arrays are expanded", `data: {nested: ["deep"]}`, true},
		{"an object is not a value for exists", `data: {userIdentity: [{exists: true}]}`, false},
		{"an object is not a value for anything-but", `data: {userIdentity: [{anything-but: "x"}]}`, false},
		{"exists false on an object", `data: {userIdentity: [{exists: false}]}`, true},
		// Array consistency: an object pattern's fields hold in one element.
		{"same element", `data: {resources: {type: ["cluster"], id: ["cls-1"]}}`, true},
		{"fields from different elements", `data: {resources: {type: ["cluster"], id: ["ins-2"]}}`, false},
		{"different elements, each field alone", "data:\n  $or:\n    - resources: {type: [\"cluster\"]}\n  resources: {id: [\"ins-2\"]}", true},
		{"same element, exists false", `data: {resources: {type: ["node"], name: [{exists: false}]}}`, true},
		{"same element, other operators", `data: {resources: {type: [{prefix: "clu"}], id: [{anything-but: {prefix: "ins"}}]}}`, true},
		{"different elements, other operators", `data: {resources: {type: [{prefix: "no"}], id: [{anything-but: {prefix: "ins"}}]}}`, false},
		{"$or alternative in one element", "data:\n  resources:\n    $or:\n      - {type: [\"cluster\"], id: [\"ins-2\"]}\n      - {type: [\"node\"], id: [\"ins-2\"]}", true},
		{"$or alternative split across elements", "data:\n  resources:\n    $or:\n      - {type: [\"cluster\"], id: [\"ins-2\"]}\n      - {type: [\"disk\"]}", false},
		// Documented difference: an $or above the array's object pattern.
		{"$or above the object pattern is not held to one element", "data: {resources: {type: [\"cluster\"]}}\n$or:\n  - data: {resources: {id: [\"ins-2\"]}}\n  - subject: [\"nope\"]", true},
		{"$or inside the object pattern is", "data: {resources: {type: [\"cluster\"], $or: [{id: [\"ins-2\"]}, {id: [\"nope\"]}]}}", false},
		{"group and a field outside it", `data: {eventName: ["DeleteCluster"], resources: {type: ["node"], id: ["ins-2"]}}`, true},
		// New operator combinations.
		{"prefix equals-ignore-case", `data: {eventName: [{prefix: {equals-ignore-case: "dELETE"}}]}`, true},
		{"prefix equals-ignore-case no match", `data: {eventName: [{prefix: {equals-ignore-case: "create"}}]}`, false},
		{"suffix equals-ignore-case", `data: {eventName: [{suffix: {equals-ignore-case: "CLUSTER"}}]}`, true},
		{"suffix equals-ignore-case beyond ASCII", `data: {greek: [{suffix: {equals-ignore-case: "φος"}}]}`, true},
		{"anything-but equals-ignore-case", `data: {eventName: [{anything-but: {equals-ignore-case: "deletecluster"}}]}`, false},
		{"anything-but equals-ignore-case list", `data: {eventName: [{anything-but: {equals-ignore-case: ["x", "y"]}}]}`, true},
		{"anything-but prefix list", `data: {eventName: [{anything-but: {prefix: ["Create", "Delete"]}}]}`, false},
		{"anything-but prefix list passes", `data: {eventName: [{anything-but: {prefix: ["Create", "Describe"]}}]}`, true},
		{"anything-but suffix list", `data: {eventName: [{anything-but: {suffix: ["Node", "Cluster"]}}]}`, false},
		{"anything-but wildcard", `data: {eventName: [{anything-but: {wildcard: "*Cl*"}}]}`, false},
		{"anything-but wildcard list", `data: {eventName: [{anything-but: {wildcard: ["*Node", "Create*"]}}]}`, true},
		{"cidr with leading zeros in the event", `data: {zeroPadIP: [{cidr: "10.0.0.0/8"}]}`, true},
		{"cidr with leading zeros in the pattern", `data: {sourceIPAddress: [{cidr: "010.001.000.000/16"}]}`, true},
		{"object value never equals a string", `data: {userIdentity: ["CAMUser"]}`, false},
		{"$or keyed on both sides", "$or:\n  - data: {eventName: [\"Nope\"]}\n  - subject: [{prefix: \"qcs::tke:\"}]", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRule(t, tc.pattern, "")
			checkBothEngines(t, r, e, tc.want, false)
		})
	}
}

// checkBothEngines asserts the answer of the reference (the rule's expr
// program over NewEnv) and of the indexed Set.Match on one event.
func checkBothEngines(t *testing.T, r *Rule, e *event.Event, want, wantErr bool) {
	t.Helper()
	got, err := r.Match(NewEnv(e))
	if (err != nil) != wantErr || got != want {
		t.Errorf("reference: match = %v, err = %v; want %v, error %v\nexpr: %s", got, err, want, wantErr, r.Expr())
	}
	set, err := Compile([]*Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	res := mustMatch(t, set, DefaultBus, e)
	if (len(res.Rules) == 1) != want || (len(res.Errors) == 1) != wantErr {
		t.Errorf("indexed: matched %d rules, errors %v; want match %v, error %v", len(res.Rules), res.Errors, want, wantErr)
	}
}

func TestConditionSemantics(t *testing.T) {
	e := tkeEvent(t, map[string]any{
		"userIdentity": map[string]any{"type": "root"},
	})
	cases := []struct {
		name, pattern, condition string
		want, wantErr            bool
	}{
		{"condition alone", "", `data.userIdentity.type == "root"`, true, false},
		{"condition ANDed with pattern", `source: ["tke.cloud.tencent"]`, `data.userIdentity.type != "root"`, false, false},
		{"attribute named type", "", `type startsWith "tke:"`, true, false},
		{"extension by name", "", `region == "ap-guangzhou" && principal == "100001"`, true, false},
		{"runtime error is a non-match", "", `data.missing.field == 1`, false, true},
		{"wrong type is a runtime error", "", `data.userIdentity.type > 1`, false, true},
		{"data as a whole", "", `"userIdentity" in data`, true, false},
		{"environment as a whole", "", `$env.region == "ap-guangzhou"`, true, false},
		{"missing attribute is nil", "", `dataschema == nil`, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRule(t, tc.pattern, tc.condition)
			checkBothEngines(t, r, e, tc.want, tc.wantErr)
		})
	}
}

func TestInput(t *testing.T) {
	src := ruleYAML("r", "", "") + "    input: '{\"cluster\": subject, \"who\": principal}'\n  - id: plain\n    nats: {subject: a}\n"
	rules, err := ParseFile("in.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnv(tkeEvent(t, nil))
	out, err := rules[0].Input("out", env)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := out.(map[string]any)
	if !ok || m["cluster"] != "qcs::tke:ap-guangzhou:uin/100001:cluster/cls-abc123" || m["who"] != "100001" {
		t.Errorf("input = %#v", out)
	}
	if !rules[0].HasInput("out") || rules[0].HasInput("plain") {
		t.Errorf("HasInput: out %v, plain %v; want true, false", rules[0].HasInput("out"), rules[0].HasInput("plain"))
	}
	if out, err := rules[0].Input("plain", env); out != nil || err != nil {
		t.Errorf("target without input = %v, %v; want nil, nil", out, err)
	}
	if _, err := rules[0].Input("nope", env); err == nil {
		t.Error("unknown target id: want error")
	}
}
