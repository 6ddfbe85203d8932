package router_test

import (
	"testing"

	"github.com/auditbus/auditbus/router/index/pgtest"
)

// TestMain stops the PostgreSQL server the audit index tests and
// benchmarks may have started. Run by a throughput benchmark as its
// webhook receiver, the binary is that and nothing else (serveChildHook).
func TestMain(m *testing.M) {
	serveChildHook()
	pgtest.Main(m)
}
