package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// backfillMeta names the audit_index_meta row that says the columns of
// older rows are still being filled. Its value is which rows
// (k8sRows, or allRows when a column other than the Kubernetes ones was
// added), a colon, and the last sequence filled, so a restart carries on
// from there.
const backfillMeta = "backfill"

// The rows a backfill fills.
const (
	k8sRows = "k8s" // those that may be Kubernetes audit events
	allRows = "all"
)

// k8sColumns are the columns the Kubernetes queries added.
var k8sColumns = []string{"clusterid", "hostid", "hostname", "hostip", "scope"}

// fillBatchSize is how many rows one backfill transaction updates.
const fillBatchSize = 500

// addColumns brings an index made by an earlier auditbus up to the
// current columns. The rows it holds lack what the new columns (and, for
// Kubernetes events, the columns k8sFields now derives from data) should
// say, so it also leaves word for fillColumns to derive them from each
// row's stored event: the index may keep events the stream no longer
// has, so nothing is deleted and nothing is read again from the stream.
// It reads and adds the columns in one transaction, which on SQLite holds
// the write lock; on PostgreSQL ADD COLUMN IF NOT EXISTS lets a replica
// opening the index at the same time through.
func (s *sqlStore) addColumns(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s audit index schema: begin: %w", s.d.name, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT * FROM audit_events LIMIT 0")
	if err != nil {
		return fmt.Errorf("%s audit index schema: read columns: %w", s.d.name, err)
	}
	have, err := rows.Columns()
	rows.Close()
	if err != nil {
		return fmt.Errorf("%s audit index schema: read columns: %w", s.d.name, err)
	}
	var added []string
	for _, c := range columns {
		if slices.Contains(have, c) {
			continue
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE audit_events "+s.d.addColumn+" "+c+" TEXT NOT NULL DEFAULT ''"); err != nil {
			return fmt.Errorf("%s audit index schema: add column %s: %w", s.d.name, c, err)
		}
		added = append(added, c)
	}
	if len(added) == 0 {
		return nil
	}
	which := k8sRows
	for _, c := range added {
		if !slices.Contains(k8sColumns, c) {
			which = allRows
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit_index_meta (name, value) VALUES ('"+backfillMeta+"', "+
		s.d.placeholder(1)+") ON CONFLICT (name) DO NOTHING", which+":0"); err != nil {
		return fmt.Errorf("%s audit index schema: %w", s.d.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s audit index schema: add columns: %w", s.d.name, err)
	}
	zerolog.Ctx(ctx).Info().Str("store", s.d.name).Strs("columns", added).
		Msg("audit index: added the columns this version needs; filling them from the stored events")
	return nil
}

// fillColumns derives, when addColumns left word to, every column but the
// key, time and bus of the rows that may be Kubernetes audit events (of
// every row, if older columns were missing too) from their stored event, as the indexer would now (fromEvent), in batches of
// fillBatchSize rows per transaction. Each update sets what the event
// alone determines, so running it twice, or in two replicas at once, is
// harmless. A stored event that no longer decodes keeps its row as it is.
func (s *sqlStore) fillColumns(ctx context.Context) error {
	var from string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM audit_index_meta WHERE name = '"+backfillMeta+"'").Scan(&from)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s audit index backfill: %w", s.d.name, err)
	}
	which, seq, _ := strings.Cut(from, ":")
	after, _ := strconv.ParseInt(seq, 10, 64)
	began, filled, undecodable := time.Now(), 0, 0
	for {
		last, n, bad, err := s.fillBatch(ctx, which, after)
		if err != nil {
			return fmt.Errorf("%s audit index backfill after seq %d: %w", s.d.name, after, err)
		}
		if n == 0 {
			break
		}
		after, filled, undecodable = last, filled+n-bad, undecodable+bad
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM audit_index_meta WHERE name = '"+backfillMeta+"'"); err != nil {
		return fmt.Errorf("%s audit index backfill: %w", s.d.name, err)
	}
	zerolog.Ctx(ctx).Info().Str("store", s.d.name).Int("rows", filled).Int("undecodable", undecodable).
		Dur("took", time.Since(began)).Msg("audit index: filled the new columns of the events already indexed")
	return nil
}

// storedRow is what the backfill reads of a row.
type storedRow struct {
	seq, ns int64
	bus     string
	event   []byte
}

// fillBatch updates the next rows after seq of which (for k8sRows, those
// whose kind or type says K8sAudit: k8sFields leaves every other row's
// columns as the earlier extraction wrote them) and records the last one
// as the backfill's progress. It returns that sequence, how many rows it
// read and how many of them did not decode.
func (s *sqlStore) fillBatch(ctx context.Context, which string, after int64) (last int64, n, bad int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	defer tx.Rollback()
	filter := ""
	if which != allRows {
		filter = " AND (kind = '" + k8sKind + "' OR type LIKE '%" + k8sKind + "%')"
	}
	got, err := readRows(ctx, tx, "SELECT seq, time_ns, bus, event FROM audit_events WHERE seq > "+s.d.placeholder(1)+
		filter+" ORDER BY seq LIMIT "+strconv.Itoa(fillBatchSize), after)
	if err != nil || len(got) == 0 {
		return 0, 0, 0, err
	}
	set := columns[3 : len(columns)-1] // not seq, time_ns, bus, event
	assign := make([]string, len(set))
	for i, c := range set {
		assign[i] = c + " = " + s.d.placeholder(i+1)
	}
	st, err := tx.PrepareContext(ctx, "UPDATE audit_events SET "+strings.Join(assign, ", ")+" WHERE seq = "+s.d.placeholder(len(set)+1))
	if err != nil {
		return 0, 0, 0, err
	}
	defer st.Close()
	for _, row := range got {
		ev, err := unpackEvent(row.event)
		var r Record
		if err == nil {
			r, err = fromEvent(uint64(row.seq), row.bus, ev, time.Unix(0, row.ns))
		}
		if err != nil {
			bad++
			continue
		}
		args := append(s.recordArgs(r)[3:len(columns)-1], row.seq)
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return 0, 0, 0, fmt.Errorf("update seq %d: %w", row.seq, err)
		}
	}
	last = got[len(got)-1].seq
	if _, err := tx.ExecContext(ctx, "UPDATE audit_index_meta SET value = "+s.d.placeholder(1)+" WHERE name = '"+backfillMeta+"'",
		which+":"+strconv.FormatInt(last, 10)); err != nil {
		return 0, 0, 0, err
	}
	return last, len(got), bad, tx.Commit()
}

func readRows(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]storedRow, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedRow
	for rows.Next() {
		var r storedRow
		if err := rows.Scan(&r.seq, &r.ns, &r.bus, &r.event); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
