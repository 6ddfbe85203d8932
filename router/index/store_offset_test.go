package index_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/auditbus/auditbus/router/index"
)

// TestSearchOffset: pages by offset walk every match once, newest first,
// and an offset past the end is an empty page.
func TestSearchOffset(t *testing.T) {
	recs := corpus(120)
	q := index.Query{Equal: map[index.Field][]string{index.FieldOutcome: {"success"}}, Limit: 7}
	exp := want(recs, q)
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			if err := s.Put(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for q.Offset = 0; q.Offset <= len(exp); q.Offset += q.Limit {
				page, err := s.Search(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page {
					got = append(got, r.Seq)
				}
			}
			if !slices.Equal(got, exp) {
				t.Errorf("offset pages %v\nwant %v", got, exp)
			}
		})
	}
}

// TestOldIndexGainsColumns: an index made before the Kubernetes columns
// existed gets them when opened, and a rebuild is asked for so the
// indexers fill them.
func TestOldIndexGainsColumns(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, index.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE audit_events (seq BIGINT PRIMARY KEY, time_ns BIGINT NOT NULL, bus TEXT NOT NULL DEFAULT '', event BLOB NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := index.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(context.Background(), corpus(3)); err != nil {
		t.Fatalf("put after upgrade: %v", err)
	}
	n, err := s.Count(context.Background(), index.Query{Equal: map[index.Field][]string{index.FieldClusterID: {"id-1"}}})
	if err != nil || n != 1 {
		t.Errorf("count by clusterid after upgrade: %d, %v; want 1", n, err)
	}
	if asked, err := s.TakeRebuild(context.Background()); err != nil || !asked {
		t.Errorf("rebuild asked: %v, %v; want true", asked, err)
	}
}
