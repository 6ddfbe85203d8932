package router_test

import (
	"testing"

	"github.com/auditbus/auditbus/router/index/pgtest"
)

// TestMain stops the PostgreSQL server the audit index tests and
// benchmarks may have started.
func TestMain(m *testing.M) { pgtest.Main(m) }
