package rulestest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRulesAreDeterministicAndPrefixStable(t *testing.T) {
	big := Rules(300, 7)
	if !bytes.Equal(big, Rules(300, 7)) {
		t.Fatal("same arguments, different rules")
	}
	if bytes.Equal(big, Rules(300, 8)) {
		t.Fatal("different seeds, same rules")
	}
	// Rule i does not depend on n: the small file's documents open the big one.
	_, smallDocs, _ := strings.Cut(string(Rules(100, 7)), "\n")
	_, bigDocs, _ := strings.Cut(string(big), "\n")
	if !strings.HasPrefix(bigDocs, smallDocs) {
		t.Fatal("Rules(100) is not a prefix of Rules(300)")
	}
}

func TestRulesAreValidYAMLWithUniqueNames(t *testing.T) {
	const n = 2000
	dec := yaml.NewDecoder(bytes.NewReader(Rules(n, 1)))
	names := map[string]bool{}
	var broad int
	for {
		var doc struct {
			Name    string         `yaml:"name"`
			Pattern map[string]any `yaml:"pattern"`
			Targets []map[string]any
		}
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		if names[doc.Name] || len(doc.Name) > 64 {
			t.Errorf("name %q repeated or too long", doc.Name)
		}
		names[doc.Name] = true
		if len(doc.Targets) != 1 {
			t.Errorf("%s: %d targets", doc.Name, len(doc.Targets))
		}
		if _, ok := doc.Pattern["data"]; !ok {
			broad++
		}
	}
	if len(names) != n {
		t.Fatalf("%d rules, want %d", len(names), n)
	}
	if broad != n/100 {
		t.Errorf("%d broad rules, want %d", broad, n/100)
	}
}

func TestEvents(t *testing.T) {
	evs := Events(500, 400, 3, 0.25)
	if len(evs) != 400 {
		t.Fatalf("%d events", len(evs))
	}
	matching, size := 0, 0
	for i, e := range evs {
		var ce map[string]any
		if err := json.Unmarshal(e.Raw, &ce); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		for _, attr := range []string{"specversion", "id", "source", "type", "subject", "time", "region", "principal", "action", "resourcetype", "resourcename", "outcome", "sourceip", "data"} {
			if _, ok := ce[attr]; !ok {
				t.Errorf("event %d lacks %s", i, attr)
			}
		}
		if e.WantRule != "" {
			matching++
		}
		size += len(e.Raw)
	}
	if matching != 100 {
		t.Errorf("%d match events, want 100", matching)
	}
	if avg := size / len(evs); avg < 1800 || avg > 2600 {
		t.Errorf("average event size %d bytes, want about 2 KB", avg)
	}
	again := Events(500, 10, 3, 0.25)
	for i := range again {
		if !bytes.Equal(again[i].Raw, evs[i].Raw) || again[i].WantRule != evs[i].WantRule {
			t.Fatalf("event %d differs between calls", i)
		}
	}
}

func TestEventsWithoutRulesMatchNothing(t *testing.T) {
	for _, e := range Events(0, 20, 1, 1) {
		if e.WantRule != "" {
			t.Fatalf("want no rule, got %q", e.WantRule)
		}
	}
}

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{
		"DeleteCluster":                  "delete-cluster",
		"ModifyDBInstanceSecurityGroups": "modify-db-instance-security-groups",
		"LookUpEvents":                   "look-up-events",
	} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
}
