package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestTargetConfigExpansion(t *testing.T) {
	src := `name: r
targets:
  - id: hook
    webhook:
      url: "https://ops.example/hook"
      secret: "Bearer ${OPS_SECRET}"
      port: ${PORT}
      quoted: "${PORT}"
`
	rules, err := ParseFile("t.yaml", []byte(src), WithLookupEnv(testLookup))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Secret string
		Port   int
		Quoted string
	}
	tg := rules[0].Targets[0]
	if err := tg.Config.Decode(&cfg); err != nil {
		t.Fatalf("decode config: %v", err)
	}
	if cfg.Secret != "Bearer s3cret" || cfg.Port != 8080 || cfg.Quoted != "8080" {
		t.Errorf("config = %+v", cfg)
	}
	if tg.Kind != "webhook" || tg.Config.Line != 5 {
		t.Errorf("kind %q config line %d, want webhook at line 5", tg.Kind, tg.Config.Line)
	}
}

func TestTargetCheck(t *testing.T) {
	check := func(kind string, cfg *yaml.Node) error {
		var c struct{ URL string }
		if err := cfg.Decode(&c); err != nil {
			return err
		}
		if kind == "webhook" && !strings.HasPrefix(c.URL, "https://") {
			return errors.New("url must be https")
		}
		return nil
	}
	src := "name: r\ntargets:\n  - id: a\n    webhook: {url: \"http://x\"}\n  - id: b\n    log: {}\n"
	_, err := ParseFile("t.yaml", []byte(src), WithTargetCheck(check))
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("want one error, got %v", err)
	}
	want := `t.yaml:4:5: rule "r": webhook target: url must be https`
	if es[0].Error() != want {
		t.Errorf("error = %q, want %q", es[0].Error(), want)
	}
}

func TestConditionErrorPosition(t *testing.T) {
	cases := []struct{ name, line, want string }{
		{"plain", `condition: data.x ==== 1`, "c.yaml:2:21:"},
		{"single quoted", `condition: 'data.x ==== 1'`, "c.yaml:2:22:"},
		{"double quoted", `condition: "data.x ==== 1"`, "c.yaml:2:22:"},
		{"block", "condition: |\n  data.x == 1 &&\n    data.y ==== 2", "c.yaml:4:14:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: r\n" + tc.line + "\ntargets: [{id: t, log: {}}]\n"
			_, err := ParseFile("c.yaml", []byte(src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestParseFileCollectsAllErrors(t *testing.T) {
	src := "name: a\ntargets: []\n---\nname: b\npattern: {type: [{prefix: 1}]}\ntargets: [{id: t, log: {}}]\n"
	_, err := ParseFile("m.yaml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T is not Errors", err)
	}
	want := "m.yaml:2:10: rule \"a\": targets must be a non-empty list\n" +
		"m.yaml:5:27: rule \"b\": prefix takes a string"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Pos: Position{File: "f.yaml", Line: 3, Col: 7}, Msg: "boom"}
	if e.Error() != "f.yaml:3:7: boom" {
		t.Errorf("without rule: %q", e.Error())
	}
	e.Rule = "r"
	if e.Error() != `f.yaml:3:7: rule "r": boom` {
		t.Errorf("with rule: %q", e.Error())
	}
}

func TestEmptyDocumentsAreSkipped(t *testing.T) {
	src := "---\n# only a comment\n---\nname: a\ntargets: [{id: t, log: {}}]\n---\n"
	rules, err := ParseFile("e.yaml", []byte(src))
	if err != nil || len(rules) != 1 || rules[0].Name != "a" {
		t.Fatalf("rules %v, err %v", rules, err)
	}
}

// An alias "bomb" expands to millions of pattern fields; it must be
// rejected quickly with one error instead of exhausting the loader.
func TestPatternAliasBomb(t *testing.T) {
	src := `name: r
x: &b {f1: [1], f2: [1], f3: [1], f4: [1], f5: [1], f6: [1], f7: [1], f8: [1], f9: [1]}
y: &c {g1: *b, g2: *b, g3: *b, g4: *b, g5: *b, g6: *b, g7: *b, g8: *b, g9: *b}
z: &d {h1: *c, h2: *c, h3: *c, h4: *c, h5: *c, h6: *c, h7: *c, h8: *c, h9: *c}
w: &e {i1: *d, i2: *d, i3: *d, i4: *d, i5: *d, i6: *d, i7: *d, i8: *d, i9: *d}
pattern: {data: {k1: *e, k2: *e, k3: *e, k4: *e, k5: *e, k6: *e, k7: *e, k8: *e, k9: *e}}
targets: [{id: t, log: {}}]
`
	_, err := ParseFile("bomb.yaml", []byte(src))
	if got := strings.Count(fmt.Sprint(err), "more than 10000 fields"); got != 1 {
		t.Errorf("size errors = %d, want 1; err:\n%v", got, err)
	}
}
