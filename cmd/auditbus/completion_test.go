package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// bashComplete sources the bash script and runs its completion function
// on words, the last being the word completed, as bash does on TAB.
func bashComplete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := "source " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
		strconv.Itoa(len(words)-1) + "\n_auditbus\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	out, err := exec.Command("bash", "--norc", "--noprofile", "-c", prog).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

func writeScript(t *testing.T, shell string) string {
	t.Helper()
	code, out, errOut := cli(t, context.Background(), "completion", shell)
	if code != 0 || errOut != "" {
		t.Fatalf("completion %s: exit %d: %s", shell, code, errOut)
	}
	path := filepath.Join(t.TempDir(), "auditbus."+shell)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBashCompletion: the script registers itself for auditbus and, in a
// simulated TAB at every command path, offers exactly the subcommands or
// the flags the command tree has; plain words after a leaf are left to
// bash's file completion.
func TestBashCompletion(t *testing.T) {
	script := writeScript(t, "bash")
	out, err := exec.Command("bash", "--norc", "--noprofile", "-c", "source "+script+"; complete -p auditbus").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "complete -o default -F _auditbus auditbus" {
		t.Fatalf("complete -p: %v: %s", err, out)
	}
	for _, e := range completionEntries(context.Background()) {
		words := append([]string{"auditbus"}, strings.Fields(e.path)...)
		cur := ""
		if e.leaf {
			cur = "--"
		}
		got := bashComplete(t, script, append(words, cur)...)
		if strings.Join(got, " ") != strings.Join(e.words, " ") {
			t.Errorf("%q TAB: got %v, want %v", e.path, got, e.words)
		}
	}
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"auditbus", "dlq", "l"}, "list"},
		{[]string{"auditbus", "serve", "--con"}, "--config"},
		{[]string{"auditbus", "rules", "validate", "--st"}, "--strict"},
		{[]string{"auditbus", "publish", "--file", "x.json", "--form"}, "--format"},
		{[]string{"auditbus", "publish", "--file", ""}, ""},
	} {
		if got := strings.Join(bashComplete(t, script, tc.words...), " "); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.words, got, tc.want)
		}
	}
}

// TestZshCompletionCoversTree: zsh is not installed where the tests run,
// so the script is checked for a case of every command path offering its
// words, and for registering with compdef.
func TestZshCompletionCoversTree(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"completion", "zsh"}, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	s := out.String()
	if !strings.HasPrefix(s, "#compdef auditbus\n") || !strings.Contains(s, "compdef _auditbus auditbus") {
		t.Errorf("not a compdef script:\n%s", s)
	}
	for _, e := range completionEntries(context.Background()) {
		if want := "compadd -- " + strings.Join(e.words, " "); !strings.Contains(s, "(\""+e.path+"\") ") || !strings.Contains(s, want) {
			t.Errorf("no case for %q offering %q", e.path, want)
		}
	}
}
