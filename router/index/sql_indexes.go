package index

import (
	"context"
	"fmt"
	"slices"
)

// sqlIndex is a secondary index of audit_events and the query that needs
// it. Every one ends in (time_ns, seq), so the filter it serves pages
// newest first without a sort and counts from the index alone.
type sqlIndex struct {
	name, cols string
	// sparse, when set, is a column empty in most events (Kubernetes
	// fields on CTS and Tencent records): the index holds only the rows
	// where it is set, so the rest cost no index write, and a query
	// that asks for non-empty values says so (sparseCond) for the
	// planner to use it.
	sparse Field
}

// sqlIndexes are the indexes, each kept because an endpoint's filter
// needs it (TestQueryPlans proves each query uses it):
//   - time: CTS traces in their default window, /v1/audit-events without
//     a filter, time-range counts, retention.
//   - bus: every query of an identity scoped to some buses.
//   - principal: CTS user, ACP user_name, "who did this".
//   - action: CTS trace_name (HSS verb and ACP operation_type come with
//     their cluster's filter).
//   - resourcename, resourceid: CTS resource_name and resource_id, ACP
//     resource_name, "what happened to X".
//   - id: CTS trace_id and the one-trace lookup.
//   - cluster_kind: ACP, whose every query is a cluster and kind
//     K8sAudit, counted for total_items from the index alone.
//   - clusterid: HSS, whose every query is a cluster_id.
//
// Indexes of earlier versions no query needed are in droppedIndexes.
var sqlIndexes = []sqlIndex{
	{name: "audit_events_time", cols: "time_ns, seq"},
	{name: "audit_events_bus", cols: "bus, time_ns, seq"},
	{name: "audit_events_principal", cols: "principal, time_ns, seq"},
	{name: "audit_events_action", cols: "action, time_ns, seq"},
	{name: "audit_events_resourcename", cols: "resourcename, time_ns, seq"},
	{name: "audit_events_resourceid", cols: "resourceid, time_ns, seq"},
	{name: "audit_events_id", cols: "id, time_ns, seq"},
	{name: "audit_events_cluster_kind", cols: "cluster, kind, time_ns, seq", sparse: FieldCluster},
	{name: "audit_events_clusterid_set", cols: "clusterid, time_ns, seq", sparse: FieldClusterID},
}

// droppedIndexes are indexes earlier versions made, dropped on open:
// product (CTS service_type: a handful of services, so the time index
// finds a first page as fast) and requestid (no endpoint's filter), and
// the full cluster and clusterid indexes the sparse ones replace.
var droppedIndexes = []string{"audit_events_product", "audit_events_requestid", "audit_events_cluster",
	"audit_events_clusterid"}

// sparseFields are the columns of the sparse indexes.
var sparseFields = func() []Field {
	var fs []Field
	for _, ix := range sqlIndexes {
		if ix.sparse != "" {
			fs = append(fs, ix.sparse)
		}
	}
	return fs
}()

// createIndexes creates the indexes missing and drops the dropped ones.
func (s *sqlStore) createIndexes(ctx context.Context) error {
	for _, ix := range sqlIndexes {
		q := "CREATE INDEX IF NOT EXISTS " + ix.name + " ON audit_events (" + ix.cols + ")"
		if ix.sparse != "" {
			q += " WHERE " + sparseCond(ix.sparse)
		}
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s audit index schema: index %s: %w", s.d.name, ix.name, err)
		}
	}
	for _, name := range droppedIndexes {
		if _, err := s.db.ExecContext(ctx, "DROP INDEX IF EXISTS "+name); err != nil {
			return fmt.Errorf("%s audit index schema: drop index %s: %w", s.d.name, name, err)
		}
	}
	return nil
}

// sparseCond is the condition of f's sparse index, written out the same
// in the index and in queries: neither planner proves col IN ($1)
// implies it for a parameter, so a query states it literally.
func sparseCond(f Field) string { return string(f) + " <> ''" }

// needsSparseCond reports whether a filter on f for vals may add
// sparseCond(f): f has a sparse index and no value asked for is empty.
func needsSparseCond(f Field, vals []string) bool {
	return len(vals) > 0 && slices.Contains(sparseFields, f) && !slices.Contains(vals, "")
}
