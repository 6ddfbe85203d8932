package index

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// dialect is what differs between the SQL stores.
type dialect struct {
	name string
	blob string // the column type of the stored event
	// pack is whether stored events are compressed (packEvent): SQLite
	// keeps values as they are, while PostgreSQL compresses large ones
	// itself, on its own CPU rather than auditbus's.
	pack bool
	// key is the column type of seq, the key. SQLite's is INTEGER, so
	// that seq is the table's rowid rather than a column with a unique
	// index of its own: one B-tree less to write per row. A file an
	// earlier auditbus made keeps its BIGINT key, which answers the same.
	key string
	// addColumn is the ALTER TABLE clause that adds a column.
	addColumn string
	// placeholder returns the n-th (1-based) parameter marker.
	placeholder func(n int) string
}

// sqlStore is a Store over database/sql; SQLite and PostgreSQL share it.
type sqlStore struct {
	db *sql.DB
	d  dialect
	// row, when set, is a prepared one-row insert that Put runs per record
	// (SQLite, in process: nothing parsed per batch, a cheap call per row);
	// without it Put sends multi-row inserts (PostgreSQL: fewer round trips).
	row    *sql.Stmt
	closed atomic.Bool
}

// columns are the table's columns in Record order but for the key and
// time, which come first.
var columns = []string{"seq", "time_ns", "bus", "id", "source", "type", "subject", "kind", "product",
	"action", "principal", "resourcetype", "resourcename", "resourceid", "outcome", "code", "sourceip",
	"region", "cluster", "tracerating", "requestid", "clusterid", "hostid", "hostname", "hostip", "scope", "event"}

// maxRowsPerInsert keeps an insert's parameters below SQLite's limit
// (32766) and PostgreSQL's (65535).
const maxRowsPerInsert = 500

func (s *sqlStore) migrate(ctx context.Context) error {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS audit_events (seq " + s.d.key + " PRIMARY KEY, time_ns BIGINT NOT NULL")
	for _, c := range columns[2 : len(columns)-1] {
		b.WriteString(", " + c + " TEXT NOT NULL DEFAULT ''")
	}
	b.WriteString(", event " + s.d.blob + " NOT NULL)")
	stmts := []string{b.String(),
		"CREATE TABLE IF NOT EXISTS audit_index_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s audit index schema: %w", s.d.name, err)
		}
	}
	if err := s.addColumns(ctx); err != nil {
		return err
	}
	if err := s.fillColumns(ctx); err != nil {
		return err
	}
	return s.createIndexes(ctx)
}

func (s *sqlStore) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Put implements Store.
func (s *sqlStore) Put(ctx context.Context, recs []Record) error {
	if err := s.check(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s audit index: begin: %w", s.d.name, err)
	}
	defer tx.Rollback()
	if s.row != nil {
		st := tx.StmtContext(ctx, s.row)
		for _, r := range recs {
			if _, err := st.ExecContext(ctx, s.recordArgs(r)...); err != nil {
				return fmt.Errorf("%s audit index: insert event seq %d: %w", s.d.name, r.Seq, err)
			}
		}
	}
	for start := 0; s.row == nil && start < len(recs); start += maxRowsPerInsert {
		chunk := recs[start:min(start+maxRowsPerInsert, len(recs))]
		q, args := s.insert(chunk)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%s audit index: insert %d events from seq %d: %w", s.d.name, len(chunk), chunk[0].Seq, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s audit index: commit: %w", s.d.name, err)
	}
	return nil
}

func (s *sqlStore) insert(recs []Record) (string, []any) {
	var b strings.Builder
	b.WriteString("INSERT INTO audit_events (" + strings.Join(columns, ", ") + ") VALUES ")
	args := make([]any, 0, len(recs)*len(columns))
	for i, r := range recs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range columns {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.d.placeholder(len(args) + j + 1))
		}
		b.WriteByte(')')
		args = append(args, s.recordArgs(r)...)
	}
	b.WriteString(" ON CONFLICT (seq) DO NOTHING")
	return b.String(), args
}

// recordArgs are r's values in column order, its event packed where the
// dialect says so.
func (s *sqlStore) recordArgs(r Record) []any {
	ev := r.Event
	if s.d.pack {
		ev = packEvent(ev)
	}
	return []any{int64(r.Seq), r.Time.UnixNano(), r.Bus, r.ID, r.Source, r.Type, r.Subject, r.Kind,
		r.Product, r.Action, r.Principal, r.ResourceType, r.ResourceName, r.ResourceID, r.Outcome, r.Code,
		r.SourceIP, r.Region, r.Cluster, r.TraceRating, r.RequestID,
		r.ClusterID, r.HostID, r.HostName, r.HostIP, r.Scope, ev}
}

// prepareRow prepares the one-row insert Put then uses.
func (s *sqlStore) prepareRow(ctx context.Context) error {
	q, _ := s.insert([]Record{{}})
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("%s audit index: prepare insert: %w", s.d.name, err)
	}
	s.row = st
	return nil
}

// where renders q's conditions (not its cursor) as a WHERE clause.
func (s *sqlStore) where(q Query, args []any) (string, []any) {
	var conds []string
	arg := func(v any) string {
		args = append(args, v)
		return s.d.placeholder(len(args))
	}
	inList := func(col string, vals []string) string {
		if len(vals) == 0 {
			return "1 = 0"
		}
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = arg(v)
		}
		return col + " IN (" + strings.Join(ph, ", ") + ")"
	}
	in := func(col string, vals []string) { conds = append(conds, inList(col, vals)) }
	if q.Buses != nil {
		in("bus", q.Buses)
	}
	for _, f := range Fields {
		if vals, ok := q.Equal[f]; ok {
			in(string(f), vals)
			if needsSparseCond(f, vals) {
				conds = append(conds, sparseCond(f))
			}
		}
	}
	prefix := func(col, p string) string {
		// substr rather than LIKE: a prefix may hold % and _. Both
		// databases count characters, not bytes.
		return "substr(" + col + ", 1, " + strconv.Itoa(utf8.RuneCountInString(p)) + ") = " + arg(p)
	}
	if q.SubjectPrefix != "" {
		conds = append(conds, prefix("subject", q.SubjectPrefix))
	}
	for _, a := range q.AnyOf {
		var alts []string
		if len(a.Exact) > 0 {
			// One IN list, so an index on the column serves it.
			alts = append(alts, inList(string(a.Field), a.Exact))
		}
		for _, p := range a.Prefixes {
			alts = append(alts, prefix(string(a.Field), p))
		}
		switch len(alts) {
		case 0:
			conds = append(conds, "1 = 0")
		case 1:
			conds = append(conds, alts[0])
		default:
			conds = append(conds, "("+strings.Join(alts, " OR ")+")")
		}
	}
	if !q.After.IsZero() {
		conds = append(conds, "time_ns > "+arg(q.After.UnixNano()))
	}
	if !q.Before.IsZero() {
		conds = append(conds, "time_ns < "+arg(q.Before.UnixNano()))
	}
	if q.From != nil {
		conds = append(conds, "(time_ns, seq) < ("+arg(q.From.Time.UnixNano())+", "+arg(int64(q.From.Seq))+")")
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Search implements Store.
func (s *sqlStore) Search(ctx context.Context, q Query) ([]Record, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := checkAnyOf(q); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	where, args := s.where(q, nil)
	args = append(args, limit, max(q.Offset, 0))
	stmt := "SELECT " + strings.Join(columns, ", ") + " FROM audit_events" + where +
		" ORDER BY time_ns DESC, seq DESC LIMIT " + s.d.placeholder(len(args)-1) + " OFFSET " + s.d.placeholder(len(args))
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("%s audit index: search: %w", s.d.name, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var seq, ns int64
		if err := rows.Scan(&seq, &ns, &r.Bus, &r.ID, &r.Source, &r.Type, &r.Subject, &r.Kind, &r.Product,
			&r.Action, &r.Principal, &r.ResourceType, &r.ResourceName, &r.ResourceID, &r.Outcome, &r.Code,
			&r.SourceIP, &r.Region, &r.Cluster, &r.TraceRating, &r.RequestID,
			&r.ClusterID, &r.HostID, &r.HostName, &r.HostIP, &r.Scope, &r.Event); err != nil {
			return nil, fmt.Errorf("%s audit index: read row: %w", s.d.name, err)
		}
		r.Seq, r.Time = uint64(seq), time.Unix(0, ns).UTC()
		if r.Event, err = unpackEvent(r.Event); err != nil {
			return nil, fmt.Errorf("%s audit index: read row seq %d: %w", s.d.name, seq, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s audit index: search: %w", s.d.name, err)
	}
	return out, nil
}

// Count implements Store.
func (s *sqlStore) Count(ctx context.Context, q Query) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if err := checkAnyOf(q); err != nil {
		return 0, err
	}
	q.From = nil
	where, args := s.where(q, nil)
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM audit_events"+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s audit index: count: %w", s.d.name, err)
	}
	return n, nil
}

// DeleteBefore implements Store.
func (s *sqlStore) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, "DELETE FROM audit_events WHERE time_ns < "+s.d.placeholder(1), t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("%s audit index: retention: %w", s.d.name, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RequestRebuild implements Store.
func (s *sqlStore) RequestRebuild(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s audit index: rebuild: %w", s.d.name, err)
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM audit_events",
		"INSERT INTO audit_index_meta (name, value) VALUES ('rebuild', 'asked') ON CONFLICT (name) DO NOTHING"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s audit index: rebuild: %w", s.d.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s audit index: rebuild: %w", s.d.name, err)
	}
	return nil
}

// TakeRebuild implements Store.
func (s *sqlStore) TakeRebuild(ctx context.Context) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, "DELETE FROM audit_index_meta WHERE name = 'rebuild'")
	if err != nil {
		return false, fmt.Errorf("%s audit index: rebuild check: %w", s.d.name, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Close implements Store.
func (s *sqlStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.row != nil {
		s.row.Close()
	}
	return s.db.Close()
}
