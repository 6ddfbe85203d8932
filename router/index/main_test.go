package index_test

import (
	"context"
	"testing"

	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stores are the stores every store test runs against: each opens an
// empty one.
var stores = []struct {
	name string
	open func(t testing.TB) index.Store
}{
	{"sqlite", func(t testing.TB) index.Store {
		s, err := index.OpenSQLite(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t testing.TB) index.Store {
		s, err := index.OpenPostgres(context.Background(), pgtest.Shared(t).NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}
