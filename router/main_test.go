package router_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/auditbus/auditbus/router/index/pgtest"
)

// TestMain stops the PostgreSQL server the audit index tests and
// benchmarks may have started.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := pgtest.StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, "stop postgres:", err)
		code = 1
	}
	os.Exit(code)
}
