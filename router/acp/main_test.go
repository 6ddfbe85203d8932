package acp_test

import (
	"testing"

	"github.com/auditbus/auditbus/router/index/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
