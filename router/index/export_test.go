package index

import "context"

// OpenSQLiteBaseline opens the SQLite index with the write path as it was
// before tuning (multi-row inserts parsed per batch, SQLite's default
// cache, temp store and checkpoints), for BenchmarkSQLiteTuning.
func OpenSQLiteBaseline(ctx context.Context, dir string) (Store, error) {
	return openSQLite(ctx, dir, sqliteSettings{
		pragmas: "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)"})
}

// OpenSQLitePragmasOnly opens it with the tuned pragmas but the
// multi-row inserts, to tell the two tunings apart.
func OpenSQLitePragmasOnly(ctx context.Context, dir string) (Store, error) {
	s := tunedSQLite
	s.rowInsert = false
	return openSQLite(ctx, dir, s)
}

// FillColumns runs the backfill of an upgraded index on s (an SQL store)
// again, as a replica opening the index at the same time would.
func FillColumns(ctx context.Context, s Store) error { return s.(*sqlStore).fillColumns(ctx) }

// FromEvent is the extraction the indexer uses, RefFromEvent the one it
// replaced (extract_ref_test.go), for the differential tests.
var FromEvent, RefFromEvent = fromEvent, refFromEvent

// Plain reports whether the extraction reads b in one pass (the form
// auditbus stores) rather than through sdk-go.
func Plain(b []byte) bool { _, ok := plainEnvelope(b); return ok }

// ValidJSON is the extraction's JSON validity check.
var ValidJSON = validJSON

// PackEvent and UnpackEvent are the stored event's column format.
var PackEvent, UnpackEvent = packEvent, unpackEvent
