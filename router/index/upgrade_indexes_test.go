package index_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
)

// oldIndexes are the indexes auditbus made before each was tied to the
// query that needs it.
var oldIndexes = []string{"time", "bus", "principal", "action", "resourcename", "resourceid", "id", "requestid",
	"product", "cluster", "clusterid"}

// TestUpgradeIndexes: opening an index with the old indexes drops those
// no query needs and creates the new ones, on both stores.
func TestUpgradeIndexes(t *testing.T) {
	want := []string{"audit_events_action", "audit_events_bus", "audit_events_cluster_kind", "audit_events_clusterid_set",
		"audit_events_id", "audit_events_principal", "audit_events_resourceid", "audit_events_resourcename", "audit_events_time"}
	recs := upgradeEvents(t)
	for _, c := range upgradeCases {
		t.Run(c.name, func(t *testing.T) {
			raw, open := c.setup(t)
			writeOld(t, raw, c.blob, c.ph, recs)
			// The version with the clusterid index had its column.
			if _, err := raw.Exec("ALTER TABLE audit_events ADD COLUMN clusterid TEXT NOT NULL DEFAULT ''"); err != nil {
				t.Fatal(err)
			}
			for _, ix := range oldIndexes {
				cols := ix + ", time_ns, seq"
				if ix == "time" {
					cols = "time_ns, seq"
				}
				if _, err := raw.Exec("CREATE INDEX audit_events_" + ix + " ON audit_events (" + cols + ")"); err != nil {
					t.Fatal(err)
				}
			}
			s, err := open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkUpgraded(t, s, recs)
			if got := indexNames(t, raw, c.blob == "BLOB"); !slices.Equal(got, want) {
				t.Errorf("indexes after the upgrade %q, want %q", got, want)
			}
		})
	}
}

// indexNames are audit_events' secondary indexes, sorted.
func indexNames(t *testing.T, db *sql.DB, sqlite bool) []string {
	t.Helper()
	q := "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_events' AND indexname <> 'audit_events_pkey'"
	if sqlite {
		q = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND sql IS NOT NULL"
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}
