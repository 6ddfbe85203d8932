package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/internal/doccheck"
)

// TestDocCheckRefuses: each kind of check refuses what it must, with a
// message that says what to do (the doc check itself passing proves the
// other half: that the docs' blocks are accepted).
func TestDocCheckRefuses(t *testing.T) {
	root := filepath.Join("testdata", "doccheck")
	block := func(marker, text string) doccheck.Block {
		blocks, err := doccheck.Parse("doc.md", []byte(marker+"\n```\n"+text+"```\n"))
		if err != nil || len(blocks) != 1 {
			t.Fatalf("fixture: %v %v", blocks, err)
		}
		return blocks[0]
	}
	tests := []struct {
		name, marker, text string
		check              func(string, doccheck.Block) error
		want               string // "" when the block passes
	}{
		{"test reached through a helper", "<!-- test: pkg TestReads -->", "x\n", checkTestMarker, ""},
		{"key passed to a helper", "<!-- test: pkg TestByKey/one -->", "x\n", checkTestMarker, ""},
		{"path and key passed to a helper", "<!-- test: pkg TestByPath -->", "x\n", checkTestMarker, ""},
		{"test that reads nothing", "<!-- test: pkg TestOther -->", "x\n", checkTestMarker, `call doccheck.Read(t, "../doc.md", "TestOther")`},
		{"missing test", "<!-- test: pkg TestGone -->", "x\n", checkTestMarker, "has no func TestGone"},
		{"key of another block", "<!-- test: pkg TestByKey/two -->", "x\n", checkTestMarker, "does not read this block"},
		{"marker without a test", "<!-- test: pkg -->", "x\n", checkTestMarker, "want <!-- test: PKG TestName -->"},
		{"lines of the file", "<!-- from: shipped.yaml -->", "b: 2\nc: 3\n", checkFrom, ""},
		{"not in the file", "<!-- from: shipped.yaml -->", "b: 3\n", checkFrom, "not in shipped.yaml word for word"},
		{"part of a line", "<!-- from: shipped.yaml -->", ": 2\n", checkFrom, "word for word"},
		{"broken rule", "<!-- check: rule -->", "name: x\ntargets:\n  - id: out\n    lgo: {}\n", checkFileBlock, `unknown target kind "lgo"`},
		{"rule that never matches", "<!-- check: rule -->", "name: x\npattern:\n  specversion: [\"0.3\"]\ntargets:\n  - id: out\n    log: {}\n", checkFileBlock, "rules validate --strict would refuse it"},
		{"targets", "<!-- check: targets -->", "targets:\n  - id: out\n    log: {}\n", checkFileBlock, ""},
		{"event without id", "<!-- check: event -->", `{"specversion":"1.0","source":"s","type":"t"}` + "\n", checkFileBlock, "id"},
		{"elided JSON", "<!-- check: json -->", `{"a": 1, "b": "...", ...}` + "\n", checkFileBlock, ""},
		{"broken JSON", "<!-- check: json -->", `{"a": 1,, "b": 2}` + "\n", checkFileBlock, "not JSON"},
		{"auth file typo", "<!-- check: auth -->", "identities:\n  - name: a\n    tokens: [\"sha256:00\"]\n    actions: [rules:red]\n", checkFileBlock, "rules:red"},
		{"deployment tools", "<!-- check: external -->", "docker build -f deploy/Dockerfile .\nauditbus rules validate /etc/r.yaml &&\n  mv /etc/r.yaml /etc/s.yaml\n", func(_ string, b doccheck.Block) error { return checkFileBlock(repoRoot(t), b) }, ""},
		{"not a deployment tool", "<!-- check: external -->", "curl -sS x\n", checkFileBlock, "curl is not a deployment tool"},
		{"auditbus flag that is not there", "<!-- check: external -->", "kubectl apply -f x.yaml\nauditbus token create --nmae x\n", func(_ string, b doccheck.Block) error { return checkFileBlock(repoRoot(t), b) }, "no flag --nmae"},
		{"unknown kind", "<!-- check: toml -->", "a = 1\n", checkFileBlock, `unknown kind "toml"`},
		{"go name that is not there", "<!-- check: go -->", "_ = sinks.VerifyAll\n", func(_ string, b doccheck.Block) error { return checkFileBlock(repoRoot(t), b) }, "sinks.VerifyAll"},
		{"benchmark renamed", "<!-- check: commands -->", "go test ./rules -run '^$' -bench NoSuchBench\n", func(_ string, b doccheck.Block) error { return checkFileBlock(repoRoot(t), b) }, `-bench "NoSuchBench" matches no Benchmark`},
		{"package moved", "<!-- check: commands -->", "go test ./router/nowhere\n", func(_ string, b doccheck.Block) error { return checkFileBlock(repoRoot(t), b) }, "no such directory"},
		{"not a go command", "<!-- check: commands -->", "curl -sS http://127.0.0.1:8080/readyz\n", func(_ string, b doccheck.Block) error { return checkFileBlock(repoRoot(t), b) }, "only go commands"},
		{"serve flag that is not there", "<!-- check: args -->", "auditbus serve --listen-addr 0.0.0.0:1\n", func(_ string, b doccheck.Block) error { return checkFileBlock(repoRoot(t), b) }, "listen-addr"},
		{"synopsis flag that is not there", "<!-- check: args -->", "auditbus dlq list [--url URL] [--rules R]\n", func(_ string, b doccheck.Block) error { return checkFileBlock(repoRoot(t), b) }, "has no flag --rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(root, block(tt.marker, tt.text))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("accepted, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestDocOutputMatching: how shown output is compared with what a command
// prints.
func TestDocOutputMatching(t *testing.T) {
	for _, tt := range []struct {
		name, want, got string
		loose, numbers  bool
		match           bool
	}{
		{"same line", "a b\n", "a b\n", false, false, true},
		{"ellipsis in a line", "id ... end\n", "id 42 x end\n", false, false, true},
		{"ellipsis stays in its line", "a...\nz\n", "a\nb\nz\n", false, false, false},
		{"a number differs", "run 3 passes\n", "run 4 passes\n", false, false, false},
		{"numbers may differ", "run 3 passes in 2.5s\n", "run 41 passes in 3.25s\n", false, true, true},
		{"words still compared", "run 3 passes\n", "ran 4 passes\n", false, true, false},
		{"wrapped JSON", "{\"a\": 1,\n \"b\": [...]}", `{"a":1,"b":[1,2]}` + "\n", true, false, true},
		{"JSON that differs", `{"accepted":1}`, `{"accepted":2}`, true, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := matchLines(tt.want, tt.got, tt.numbers)
			if tt.loose {
				got = matchLoose(tt.want, tt.got)
			}
			if got != tt.match {
				t.Errorf("match = %v, want %v", got, tt.match)
			}
		})
	}
}

// TestShellCommands: how a shell block splits into commands and the
// output shown below each.
func TestShellCommands(t *testing.T) {
	cmds := shellCommands("# a comment\ncurl -sS x \\\n  -d y\n# {\"ok\":1}\n#  more\n\n# comment again\ncat <<'EOF'\nline # not a comment\nEOF\necho a |\n  tr a b   # trailing\n")
	want := []shellCommand{
		{line: "curl -sS x \\\n  -d y", at: 1, output: []string{`{"ok":1}`, " more"}},
		{line: "cat <<'EOF'\nline # not a comment\nEOF", at: 7},
		{line: "echo a |\n  tr a b   # trailing", at: 10},
	}
	if len(cmds) != len(want) {
		t.Fatalf("got %d commands %+v, want %d", len(cmds), cmds, len(want))
	}
	for i := range want {
		if cmds[i].line != want[i].line || cmds[i].at != want[i].at || strings.Join(cmds[i].output, "|") != strings.Join(want[i].output, "|") {
			t.Errorf("command %d = %+v, want %+v", i, cmds[i], want[i])
		}
	}
}

func TestPromptCommands(t *testing.T) {
	cmds := shellCommands("$ auditbus version\nauditbus dev\n$ echo a \\\n  b\na b\n\n")
	if len(cmds) != 2 || cmds[0].line != "auditbus version" || strings.Join(cmds[0].output, "|") != "auditbus dev" ||
		cmds[1].line != "echo a \\\n  b" || strings.Join(cmds[1].output, "|") != "a b|" || !cmds[1].exact {
		t.Errorf("commands %+v", cmds)
	}
}
