package rules

import (
	"testing"
)

// TestScanAgreesWithSDK pins the cases where a naive scan of the stored
// JSON would read an event differently from sdk-go plus NewEnv (found in
// review): content types the two JSON tests disagree on, CloudEvents 0.3,
// the zero time, URLs net/url rewrites or drops, strings sdk-go's reader
// decodes its own way, and wildcards on invalid UTF-8.
func TestScanAgreesWithSDK(t *testing.T) {
	const h = `{"specversion":"1.0","id":"1","source":"s","type":"t"`
	cases := []struct{ bug, name, pattern, cond, event string }{
		// 1. content types that sdk-go does not treat as JSON but NewEnv does
		{"1", "+json ct, string data parsed by NewEnv", `data: {a: [1]}`, "", h + `,"datacontenttype":"application/vnd.x+json","data":"{\"a\":1}"}`},
		{"1", "upper-case ct, string data", `data: {a: [1]}`, "", h + `,"datacontenttype":"Application/JSON","data":"{\"a\":1}"}`},
		{"1", "ct with trailing space, string data", `data: [1]`, "", h + `,"datacontenttype":"application/json ","data":"1"}`},
		{"1", "+json ct, empty string data dropped", `data: [""]`, "", h + `,"datacontenttype":"application/vnd.x+json","data":""}`},
		{"1", "+json ct, null data dropped", `data: [{exists: true}]`, "", h + `,"datacontenttype":"application/vnd.x+json","data":null}`},
		{"1", "ct ';': JSON for sdk-go, not for NewEnv (object)", `data: {a: [1]}`, "", h + `,"datacontenttype":";","data":{"a":1}}`},
		{"1", "ct ';': string keeps its quotes in NewEnv", `data: ["abc"]`, "", h + `,"datacontenttype":";","data":"abc"}`},
		{"1", "ct ';': condition sees an object, reference a string", ``, `data.a == 1`, h + `,"datacontenttype":";","data":{"a":1}}`},
		// 2. specversion 0.3 is not looked at
		{"2", "0.3 schemaurl is dataschema", `dataschema: ["http://x"]`, "", `{"specversion":"0.3","id":"1","source":"s","type":"t","schemaurl":"http://x"}`},
		{"2", "0.3 schemaurl is not an extension", `schemaurl: [{exists: true}]`, "", `{"specversion":"0.3","id":"1","source":"s","type":"t","schemaurl":"http://x"}`},
		{"2", "0.3 datacontentencoding base64", `data: ["aGVsbG8="]`, "", `{"specversion":"0.3","id":"1","source":"s","type":"t","datacontentencoding":"base64","data":"aGVsbG8="}`},
		// 3. the zero time is omitted by NewEnv
		{"3", "zero time pattern", `time: [{exists: true}]`, "", h + `,"time":"0001-01-01T00:00:00Z"}`},
		{"3", "zero time condition", ``, `time == nil`, h + `,"time":"0001-01-01T00:00:00Z"}`},
		// 4. net/url prints "scheme://" back as "scheme:"
		{"4", "source http://", `source: ["http://"]`, "", `{"specversion":"1.0","id":"1","source":"http://","type":"t"}`},
		{"4", "dataschema http://", `dataschema: ["http://"]`, "", h + `,"dataschema":"http://"}`},
		// 5. sdk-go drops a dataschema url.Parse rejects
		{"5", "dataschema :x", `dataschema: [{exists: true}]`, "", h + `,"dataschema":":x"}`},
		{"5", "dataschema bad port", `dataschema: ["//h:x"]`, "", h + `,"dataschema":"//h:x"}`},
		// 6. attributes and non-JSON data are decoded by jsoniter, not encoding/json
		{"6", "type: high surrogate then pair", `type: ["` + "\uFFFD\U00010000" + `"]`, "", `{"specversion":"1.0","id":"1","source":"s","type":"\ud800\ud800\udc00"}`},
		{"6", "text data: high surrogate then pair", `data: ["` + "\uFFFD\U00010000" + `"]`, "", h + `,"datacontenttype":"text/plain","data":"\ud800\ud800\udc00"}`},
		{"6", "type: raw invalid UTF-8", `type: ["a` + "\uFFFD" + `b"]`, "", `{"specversion":"1.0","id":"1","source":"s","type":"a` + "\xff" + `b"}`},
		{"6", "extension: raw invalid UTF-8", `region: [{anything-but: "a` + "\uFFFD" + `"}]`, "", h + `,"region":"a` + "\xff" + `"}`},
		// 7. wildcard: byte-wise glob vs rune-wise regexp (slow path, forced by an upper-case key)
		{"7", "wildcard U+FFFD vs invalid byte", `type: [{wildcard: "x` + "\uFFFD" + `*"}]`, "", `{"specversion":"1.0","id":"1","source":"s","type":"x` + "\xff" + `yz","Force":"slow"}`},
		{"ext", "integer extension", `sequence: [7]`, "", h + `,"sequence":7}`},
		{"ext", "fraction extension is truncated by sdk-go", `sequence: [7]`, "", h + `,"sequence":7.9}`},
		{"ext", "bool extension", `flag: [true]`, "", h + `,"flag":true}`},
		{"ext", "integer extension in a condition", ``, `sequence + 1 == 8`, h + `,"sequence":7}`},
		{"ct", "charset parameter in upper case", `data: {a: [1]}`, "", h + `,"datacontenttype":"application/json; charset=UTF-8","data":{"a":1}}`},
		{"ct", "text with parameters", `data: ["abc"]`, "", h + `,"datacontenttype":"text/plain; charset=utf-8","data":"abc"}`},
	}
	for _, c := range cases {
		t.Run(c.bug+"/"+c.name, func(t *testing.T) {
			rs, err := ParseFile("case.yaml", []byte(ruleYAML("r", c.pattern, c.cond)))
			if err != nil {
				t.Fatal(err)
			}
			set, err := Compile(rs)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, ok := checkAgainstReference(t, set, rs, []byte(c.event)); !ok {
				t.Fatalf("sdk-go cannot decode the case, so it proves nothing: %s", c.event)
			}
		})
	}
}

// TestNoAllocationWithoutCandidates holds the promise the router's hot
// path relies on: an event no rule could match allocates nothing, also
// with integer extensions and content-type parameters in upper case.
func TestNoAllocationWithoutCandidates(t *testing.T) {
	src := ruleYAML("a", "time: [{prefix: \"2027\"}]\nsource: [{prefix: \"x\"}]\ndata: {eventName: [\"Nope\"], n: [{numeric: [\">\", 5]}]}", "") +
		"---\n" + ruleYAML("b", "subject: [{wildcard: \"*zz*\"}]\nsequence: [99]", "") +
		"---\n" + ruleYAML("c", "data: {arr: {x: [\"q\"]}}", `principal == "zz"`)
	rs, err := ParseFile("a.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(`{"specversion":"1.0","id":"1","source":"https://a.example/x","type":"t","time":"2026-11-21T10:00:00.5Z",` +
		`"subject":"s\u00e9\n","principal":"p","sequence":7,"datacontenttype":"application/json; charset=UTF-8",` +
		`"data":{"eventName":"Del\u0065te","n":1.5e1,"arr":[{"x":"a"},{"x":"b\"c"},[1,{"x":"z"}]],"other":{"deep":[1,2,"\ud83d\ude00"]}}}`)
	if _, _, ok := checkAgainstReference(t, set, rs, raw); !ok {
		t.Fatal("sdk-go cannot decode the event")
	}
	// The state is passed in rather than pooled: under -race, sync.Pool
	// drops items on purpose, and what is measured is the match itself.
	x := set.byBus[DefaultBus]
	st := newState(len(x.tree.nodes), len(x.rules))
	allocs := testing.AllocsPerRun(200, func() {
		var res Result
		if err := x.matchWith(st, raw, &res); err != nil || len(res.Rules) != 0 {
			t.Fatal(res, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per event, want 0", allocs)
	}
}
