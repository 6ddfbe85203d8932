package index

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the "sqlite" driver, pure Go
)

// SQLiteFile is the index's file name under its directory.
const SQLiteFile = "index.db"

// OpenSQLite opens (creating it and its schema when missing) the SQLite
// index in dir/index.db, in WAL mode so searches read while the indexer
// writes. An index an earlier auditbus made gains the columns this one
// adds, filled from the events it holds (logged on zerolog.Ctx(ctx)).
// Errors say which file could not be opened and why.
func OpenSQLite(ctx context.Context, dir string) (Store, error) {
	return openSQLite(ctx, dir, tunedSQLite)
}

// sqliteSettings are the write-path settings BenchmarkSQLiteTuning
// compares.
type sqliteSettings struct {
	pragmas   string
	rowInsert bool // a prepared one-row insert per record (sqlStore.row)
}

// tunedSQLite are the settings OpenSQLite uses. synchronous(NORMAL) in WAL
// mode loses no committed transaction on a process crash, only on a power
// cut; the index is rebuildable from the stream, so that trade is right
// for it. The others are what the benchmarks showed paying
// (router/README.md, "Audit search"): statement journals in memory, a
// 64 MiB page cache, as the indexes of a large index do not fit the 2 MiB
// default, and checkpoints every 4,000 pages rather than 1,000.
var tunedSQLite = sqliteSettings{
	pragmas: "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)&_pragma=wal_autocheckpoint(4000)",
	rowInsert: true,
}

func openSQLite(ctx context.Context, dir string, set sqliteSettings) (Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit index directory: %w", err)
	}
	path := filepath.Join(dir, SQLiteFile)
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_txlock=immediate" + set.pragmas
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("audit index %s: %w", path, err)
	}
	s := &sqlStore{db: db, d: dialect{name: "sqlite", blob: "BLOB", key: "INTEGER", pack: true, addColumn: "ADD COLUMN", placeholder: func(int) string { return "?" }}}
	err = s.migrate(ctx)
	if err == nil && set.rowInsert {
		err = s.prepareRow(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("audit index %s: %w", path, err)
	}
	return s, nil
}
