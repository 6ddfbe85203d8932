package ingest

import (
	"errors"
	"strings"
	"testing"
)

// wantError asserts err is an *Error of the given kind, attribute and index
// whose message mentions every one of the given fragments.
func wantError(t *testing.T, err error, kind error, attr string, index int, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %q is not %v", err, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is %T, not *Error", err, err)
	}
	if e.Attribute != attr {
		t.Errorf("attribute = %q, want %q (error %q)", e.Attribute, attr, err)
	}
	if e.Index != index {
		t.Errorf("index = %d, want %d (error %q)", e.Index, index, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}
