package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRules(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	writeRules(t, dir, map[string]string{
		"a.yaml":     ruleYAML("deletes", `data: {eventName: [{prefix: "Delete"}]}`, ""),
		"b.yml":      ruleYAML("all", "", "") + "---\n" + strings.Replace(ruleYAML("other-bus", "", ""), "name: other-bus", "name: other-bus\nbus: b2", 1),
		"ignored.md": "not yaml",
	})
	set, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range set.Rules() {
		names = append(names, r.Bus+"/"+r.Name)
	}
	if got := strings.Join(names, ","); got != "b2/other-bus,default/all,default/deletes" || set.Len() != 3 {
		t.Fatalf("rules = %s (len %d)", got, set.Len())
	}
	e := tkeEvent(t, map[string]any{"eventName": "DeleteCluster"})
	res := mustMatch(t, set, "default", e)
	if len(res.Errors) != 0 || len(res.Rules) != 2 {
		t.Errorf("matched %d rules, errs %v; want 2", len(res.Rules), res.Errors)
	}
	if res := mustMatch(t, set, "nope", e); len(res.Rules) != 0 {
		t.Errorf("unknown bus matched %d rules", len(res.Rules))
	}
}

func TestLoadDuplicateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	writeRules(t, dir, map[string]string{"a.yaml": ruleYAML("same", "", ""), "b.yaml": ruleYAML("same", "", "")})
	_, err := Load([]string{dir})
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("err = %v, want one error", err)
	}
	if es[0].Pos.File != filepath.Join(dir, "b.yaml") || !strings.Contains(es[0].Msg, "duplicate") {
		t.Errorf("error = %v, want duplicate at b.yaml", es[0])
	}
}

func TestLoadFilesKeepsGoodFiles(t *testing.T) {
	dir := t.TempDir()
	writeRules(t, dir, map[string]string{"good.yaml": ruleYAML("ok", "", ""), "bad.yaml": "name: [\n"})
	missing := filepath.Join(dir, "missing.yaml")
	byFile, err := LoadFiles([]string{dir, missing})
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("err = %v, want errors for bad.yaml and missing.yaml", err)
	}
	if len(byFile) != 1 || len(byFile[filepath.Join(dir, "good.yaml")]) != 1 {
		t.Errorf("good files = %v", byFile)
	}
}

func TestSetMatchReportsRuntimeErrors(t *testing.T) {
	failing := mustRule(t, "", `data.nope.deeper == 1`)
	failing.Name = "failing"
	ok := mustRule(t, `source: ["tke.cloud.tencent"]`, "")
	disabled := mustRule(t, "", "")
	disabled.Name, disabled.Enabled = "disabled", false
	set, err := Compile([]*Rule{failing, ok, disabled})
	if err != nil {
		t.Fatal(err)
	}
	res := mustMatch(t, set, "default", tkeEvent(t, map[string]any{}))
	if len(res.Rules) != 1 || res.Rules[0] != ok {
		t.Errorf("matched = %v, want only the healthy rule", res.Rules)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), `rule "failing"`) {
		t.Errorf("errs = %v, want one error naming the failing rule", res.Errors)
	}
}
