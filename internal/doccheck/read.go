package doccheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Find returns the block of the Markdown file at path whose marker is
// <!-- test: PKG KEY -->. It is an error when no block, or more than one,
// has that key.
func Find(path, key string) (Block, error) {
	blocks, err := ParseFile(path)
	if err != nil {
		return Block{}, err
	}
	var found []Block
	for _, b := range blocks {
		if b.Marker.Kind == "test" && len(b.Marker.Args) == 2 && b.Marker.Args[1] == key {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Block{}, fmt.Errorf("%s has no block marked <!-- test: PKG %s -->: mark the block this test runs, just above its fence", path, key)
	default:
		return Block{}, fmt.Errorf("%s has %d blocks marked with test %s (%s and %s): give each its own key, %s/label", path, len(found), key, found[0].Where(), found[1].Where(), key)
	}
}

// Read returns the text of the block Find(path, key) finds, for the test
// that runs it, failing t when there is none or when the marker names
// another package than the one the test runs in (a test may only claim a
// block it reads). path is relative to the test's package directory, as
// go test runs it.
func Read(t testing.TB, path, key string) string {
	t.Helper()
	b, err := Find(path, key)
	if err != nil {
		t.Fatal(err)
		return "" // for a testing.TB whose Fatal returns
	}
	pkg, err := packageDir()
	if err != nil {
		t.Fatal(err)
		return ""
	}
	if b.Marker.Args[0] != pkg {
		t.Fatalf("%s: the marker %s names package %s, but package %s reads the block: correct the marker", b.Where(), b.Marker, b.Marker.Args[0], pkg)
		return ""
	}
	return b.Text
}

// packageDir is the working directory (a test's package directory) relative
// to the repository root, with slashes.
func packageDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := RepoRoot(wd)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, wd)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

// RepoRoot is the nearest directory at or above dir whose go.mod is the
// module github.com/auditbus/auditbus (nested modules have go.mods of their
// own).
func RepoRoot(dir string) (string, error) {
	for d := dir; ; {
		if raw, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(raw, []byte("module github.com/auditbus/auditbus\n")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("no go.mod of github.com/auditbus/auditbus at or above " + dir)
		}
		d = parent
	}
}
