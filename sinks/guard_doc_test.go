package sinks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/internal/doccheck"
	"github.com/auditbus/auditbus/sinks"
)

// TestGuardErrorAsDocumented: the refusal sinks/README.md shows is, word
// for word, what dialing the metadata service through the default guard
// returns (the guard refuses before any packet leaves).
func TestGuardErrorAsDocumented(t *testing.T) {
	want := strings.TrimSpace(doccheck.Read(t, "README.md", "TestGuardErrorAsDocumented"))
	var g *sinks.Guard // nil: the default, nothing internal allowed
	conn, err := g.DialContext(context.Background(), "tcp", "169.254.169.254:80")
	if err == nil {
		conn.Close()
		t.Fatal("the default guard let a connection to 169.254.169.254 through")
	}
	if err.Error() != want {
		t.Errorf("the refusal reads\n%s\nsinks/README.md shows\n%s\ncorrect the doc", err, want)
	}
}
