package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/internal/doccheck"
)

// TestDocs is the doc check: every fenced block of every Markdown file in
// the repository is checked the way its marker says (CONTRIBUTING.md lists
// the markers), so that no command, output or file the docs show drifts
// from the code. A block without a marker fails, naming its file and line.
// Shell blocks marked <!-- run --> run for real against the built binary,
// one auditbus per Markdown file (see docs_run_test.go).
func TestDocs(t *testing.T) {
	root := repoRoot(t)
	files := markdownFiles(t, root)
	if len(files) == 0 {
		t.Fatal("no Markdown files found under " + root)
	}
	for _, file := range files {
		blocks, err := doccheck.ParseFile(filepath.Join(root, file))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for i := range blocks {
			blocks[i].File = file // repository-relative in messages
		}
		t.Run(file, func(t *testing.T) {
			t.Parallel() // each file's commands run against a server of its own
			checkPaths(t, root, file)
			checkBlocks(t, root, blocks)
		})
	}
}

// checkBlocks checks the blocks of one file; run blocks and their output
// blocks go to one session, in order.
func checkBlocks(t *testing.T, root string, blocks []doccheck.Block) {
	var runs []runStep
	for i, b := range blocks {
		m := b.Marker
		switch m.Kind {
		case "":
			t.Errorf("%s: a ```%s block without a marker: put one of %s on the line just above its fence (CONTRIBUTING.md says what each checks)", b.Where(), b.Info, markerHelp)
		case "run":
			runs = append(runs, runStep{block: b})
		case "output":
			if i == 0 || blocks[i-1].Marker.Kind != "run" || len(runs) == 0 {
				t.Errorf("%s: %s must directly follow a <!-- run --> block, whose last command's output it shows", b.Where(), m)
				continue
			}
			runs[len(runs)-1].output = &blocks[i]
		case "test":
			if err := checkTestMarker(root, b); err != nil {
				t.Errorf("%s: %s: %v", b.Where(), m, err)
			}
		case "check":
			if err := checkFileBlock(root, b); err != nil {
				t.Errorf("%s: %s: %v", b.Where(), m, err)
			}
		case "from":
			if err := checkFrom(root, b); err != nil {
				t.Errorf("%s: %s: %v", b.Where(), m, err)
			}
		case "figure":
			if b.Info != "" && b.Info != "text" {
				t.Errorf("%s: %s is for diagrams and illustrations (no info string, or text); a ```%s block is checked by its kind: use %s", b.Where(), m, b.Info, markerHelp)
			}
		default:
			t.Errorf("%s: unknown marker %s: use %s", b.Where(), m, markerHelp)
		}
	}
	if len(runs) > 0 {
		runSession(t, root, runs)
	}
}

const markerHelp = "<!-- run -->, <!-- output -->, <!-- test: PKG TestName -->, <!-- check: KIND -->, <!-- from: FILE --> or <!-- figure -->"

// fixtures are the doc check's own test documents, wrong on purpose.
var fixtures = map[string]bool{"cmd/auditbus/testdata/doccheck": true, "internal/doccheck/testdata": true}

// markdownFiles lists the repository's *.md files, relative to root,
// skipping hidden directories, the doc check's fixtures, and ./data and
// ./bin (serve's default data dir, build output).
func markdownFiles(t *testing.T, root string) []string {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && rel != "." && (strings.HasPrefix(d.Name(), ".") || fixtures[filepath.ToSlash(rel)] || rel == "data" || rel == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := doccheck.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// checkPaths: every repository path a doc names (in prose or in a block)
// exists, so that no example uses a file the repository does not ship.
func checkPaths(t *testing.T, root, file string) {
	raw, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(raw), "\n") {
		for _, p := range missingPaths(root, line) {
			t.Errorf("%s:%d: names %s, which the repository does not have: ship the file, or correct the path (paths are from the repository root)", file, i+1, p)
		}
	}
}
