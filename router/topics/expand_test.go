package topics_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/topics"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

func registry(t *testing.T) *topics.Registry {
	t.Helper()
	return registryLogging(t, zerolog.Nop())
}

// registryLogging is registry logging to log.
func registryLogging(t *testing.T, log zerolog.Logger) *topics.Registry {
	t.Helper()
	p := filepath.Join(t.TempDir(), "topics.yaml")
	src := `topics:
  - name: security
    subscriptions:
      - {id: soc, protocol: https, endpoint: "https://soc.example/smn"}
      - {id: raw, protocol: http, endpoint: "http://raw.example/", confirm: false, secret: "a-secret-of-at-least-24-bytes"}
      - {id: fn, protocol: function, endpoint: "urn:fss:r1:p1:function:default:f:latest"}
functions:
  - {urn: "urn:fss:r1:p1:function:default:f:latest", url: "https://fn.example/invoke"}
`
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := topics.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return topics.New(f, log)
}

// TestExpand: a topic target runs as one subscription target per
// subscription, a function URN as one target, an unknown URN stays a
// topic target, other targets stay; inputs follow their target.
func TestExpand(t *testing.T) {
	rs, err := rules.ParseFile("r.yaml", []byte(`name: r
targets:
  - id: sec
    topic: {urn: "urn:smn:auditbus:default:security"}
    input: '"who: " + principal'
    retry: {max_attempts: 3}
  - id: fun
    topic: {urn: "urn:fss:r1:p1:function:default:f:latest"}
  - id: later
    topic: {urn: "urn:smn:auditbus:default:not-yet"}
  - id: log
    log: {}
`), rules.WithTargetCheck(sinks.Check))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := rules.Compile(rs)
	exp, err := registry(t).Expand(set)
	if err != nil {
		t.Fatal(err)
	}
	r := exp.Rules()[0]
	var got []string
	for _, tg := range r.Targets {
		got = append(got, tg.ID+":"+tg.Kind)
		if err := sinks.Check(tg.Kind, &tg.Config); err != nil {
			t.Errorf("target %s: %v", tg.ID, err)
		}
		if tg.ID != "log" && tg.ID != "later" && tg.Kind != topics.KindSubscription {
			t.Errorf("target %s kind %s", tg.ID, tg.Kind)
		}
	}
	want := []string{"sec-soc:subscription", "sec-raw:subscription", "sec-fn:subscription", "fun:subscription", "later:topic", "log:log"}
	if len(got) != len(want) {
		t.Fatalf("targets %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("targets %v, want %v", got, want)
		}
	}
	if r.Targets[0].Retry == nil || r.Targets[0].Retry.MaxAttempts != 3 {
		t.Errorf("retry not carried over: %+v", r.Targets[0].Retry)
	}
	e := event.New()
	e.SetID("1")
	e.SetSource("s")
	e.SetType("t")
	e.SetExtension("principal", "alice")
	env := rules.NewEnv(&e)
	for _, id := range []string{"sec-soc", "sec-fn"} {
		if v, err := r.Input(id, env); err != nil || v != "who: alice" {
			t.Errorf("input of %s: %v %v", id, v, err)
		}
	}
	if v, err := r.Input("fun", env); err != nil || v != nil {
		t.Errorf("fun has no input: %v %v", v, err)
	}
	if set.Rules()[0].Targets[0].Kind != topics.KindTopic {
		t.Error("Expand changed the rule as written")
	}
	if m, _ := r.Match(env); !m {
		t.Error("the expanded rule does not match what its original matches")
	}
}

// TestTopicTargetChecked: a topic target's settings are checked when the
// rule is parsed.
func TestTopicTargetChecked(t *testing.T) {
	for _, cfg := range []string{`{urn: "security"}`, `{urn: "urn:smn:a:b:c", extra: 1}`, `{}`} {
		_, err := rules.ParseFile("r.yaml", []byte("name: r\ntargets:\n  - id: t\n    topic: "+cfg+"\n"), rules.WithTargetCheck(sinks.Check))
		if err == nil {
			t.Errorf("topic %s accepted", cfg)
		}
	}
}

// TestExpandIDCollision: target ids may contain "-", so a subscription's
// "<target id>-<subscription id>" can be another target's id (notify and
// notify-soc with subscription soc), and a long target id can make one
// longer than a subject token. Such a subscription is left out, with a log
// line naming it and why; the rule's own targets and the other
// subscriptions keep running, each id once.
func TestExpandIDCollision(t *testing.T) {
	long := strings.Repeat("l", 62)
	rs, err := rules.ParseFile("r.yaml", []byte(`name: r
targets:
  - id: notify
    topic: {urn: "urn:smn:auditbus:default:security"}
  - id: notify-soc
    webhook: {url: "https://other.example/"}
  - id: `+long+`
    topic: {urn: "urn:smn:auditbus:default:security"}
`), rules.WithTargetCheck(sinks.Check))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := rules.Compile(rs)
	var logs bytes.Buffer
	exp, err := registryLogging(t, zerolog.New(&logs)).Expand(set)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range exp.Rules()[0].Targets {
		got = append(got, tg.ID+":"+tg.Kind)
	}
	want := []string{"notify-raw:subscription", "notify-fn:subscription", "notify-soc:webhook"}
	if !slices.Equal(got, want) {
		t.Fatalf("targets %v, want %v", got, want)
	}
	for _, line := range []string{
		`"subscription":"soc","target":"notify-soc","reason":"another target of the rule has that id`,
		`"subscription":"soc","target":"` + long + `-soc","reason":"the id is longer than a subject token allows`,
		`"subscription":"raw","target":"` + long + `-raw"`,
	} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("log %s\nwants %s", logs.String(), line)
		}
	}
}
