package index

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestQueryPlans checks on SQLite that each endpoint's query is served by
// the index kept for it, newest first without a sort, and that every
// index serves one of them.
func TestQueryPlans(t *testing.T) {
	st, err := OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*sqlStore)
	for _, c := range planCases {
		t.Run(c.name, func(t *testing.T) {
			where, args := s.where(c.q, nil)
			search := explain(t, s, "SELECT seq FROM audit_events"+where+" ORDER BY time_ns DESC, seq DESC LIMIT 10", args)
			if !strings.Contains(search, "INDEX "+c.index+" ") || strings.Contains(search, "TEMP B-TREE") {
				t.Errorf("search plan %q, want index %s and no sort", search, c.index)
			}
			count := explain(t, s, "SELECT count(*) FROM audit_events"+where, args)
			if !strings.Contains(count, "INDEX "+c.index+" ") {
				t.Errorf("count plan %q, want index %s", count, c.index)
			}
		})
	}
}

var planNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// window is q in CTS's default window of a week.
func window(q Query) Query { q.After, q.Before = planNow.Add(-7*24*time.Hour), planNow; return q }

// eq is Query.Equal of field, value pairs.
func eq(kv ...string) map[Field][]string {
	m := map[Field][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[Field(kv[i])] = []string{kv[i+1]}
	}
	return m
}

// planCases are the queries of the endpoints, by the index each needs.
type planCase struct {
	name, index string
	q           Query
}

var planCases = []planCase{
	{"CTS traces, default window", "audit_events_time", window(Query{})},
	{"CTS user", "audit_events_principal", window(Query{Equal: eq("principal", "alice")})},
	{"CTS trace_name", "audit_events_action", window(Query{Equal: eq("action", "deleteEip")})},
	{"CTS resource_name", "audit_events_resourcename", window(Query{Equal: eq("resourcename", "web")})},
	{"CTS resource_id", "audit_events_resourceid", window(Query{Equal: eq("resourceid", "eip-1")})},
	{"CTS trace_id", "audit_events_id", Query{Equal: eq("id", "ev-1")}},
	{"scoped identity", "audit_events_bus", Query{Buses: []string{"prod"}}},
	{"ACP", "audit_events_cluster_kind", window(Query{Equal: eq("kind", "K8sAudit", "cluster", "c-3", "principal", "alice")})},
	{"HSS", "audit_events_clusterid_set", window(Query{Equal: eq("clusterid", "c-3", "action", "get")})},
}

// TestEveryIndexHasAQuery keeps the list above and the indexes in step.
func TestEveryIndexHasAQuery(t *testing.T) {
	for _, ix := range sqlIndexes {
		if !slices.ContainsFunc(planCases, func(c planCase) bool { return c.index == ix.name }) {
			t.Errorf("index %s: no query of planCases needs it", ix.name)
		}
	}
	for _, name := range droppedIndexes {
		if slices.ContainsFunc(sqlIndexes, func(ix sqlIndex) bool { return ix.name == name }) {
			t.Errorf("index %s is both kept and dropped", name)
		}
	}
}

func explain(t *testing.T, s *sqlStore, q string, args []any) string {
	t.Helper()
	rows, err := s.db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "; ")
}
