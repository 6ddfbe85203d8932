package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router"
)

func TestIndexRebuild(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"index", "rebuild", "--data-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "audit index emptied") {
		t.Errorf("output %q", out.String())
	}
	store, _, err := router.OpenIndex(context.Background(), router.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if asked, err := store.TakeRebuild(context.Background()); !asked || err != nil {
		t.Errorf("rebuild asked: %v %v", asked, err)
	}
	for _, args := range [][]string{{"index"}, {"index", "rebuild", "extra"}} {
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"index", "rebuild", "--index-url", "mysql://x"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "postgres://") {
		t.Errorf("a non-postgres URL: exit %d, %q", code, errOut.String())
	}
}
