package main

import (
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

// zshComplete sources the zsh script with compadd and _files replaced by
// functions that print what they are given (outside a TAB, zsh has no
// completion widget to add to), and runs its function on words, the last
// being the word completed, with PREFIX set to it as zsh does.
func zshComplete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := "compadd() { [[ $1 == -- ]] && shift; print -l -- \"$@\" }\n_files() { print FILES }\nsource " + script +
		"\nwords=(" + strings.Join(quoted, " ") + ")\nCURRENT=" + strconv.Itoa(len(words)) + "\nPREFIX='" + words[len(words)-1] + "'\n_auditbus\n"
	out, err := exec.Command("zsh", "-f", "-c", prog).CombinedOutput()
	if err != nil {
		t.Fatalf("zsh: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// TestZshCompletion: with compinit loaded the script registers itself for
// auditbus, and at every command path it offers the subcommands or flags
// of the command tree, files for a leaf's plain words (.ci/run installs
// Debian's zsh for this test).
func TestZshCompletion(t *testing.T) {
	script := writeScript(t, "zsh")
	out, err := exec.Command("zsh", "-f", "-c", "autoload -U compinit; compinit -u -D; source "+script+"; print ${_comps[auditbus]}").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "_auditbus" {
		t.Fatalf("compdef: %v: %s", err, out)
	}
	for _, e := range completionEntries(context.Background()) {
		words := append([]string{"auditbus"}, strings.Fields(e.path)...)
		cur := ""
		if e.leaf {
			cur = "--"
		}
		if got := zshComplete(t, script, append(words, cur)...); strings.Join(got, " ") != strings.Join(e.words, " ") {
			t.Errorf("%q TAB: got %v, want %v", e.path, got, e.words)
		}
	}
	if got := strings.Join(zshComplete(t, script, "auditbus", "publish", "--file", ""), " "); got != "FILES" {
		t.Errorf("publish --file TAB: got %q, want files", got)
	}
}
