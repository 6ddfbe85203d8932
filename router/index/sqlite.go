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
// writes. Errors say which file could not be opened and why.
func OpenSQLite(ctx context.Context, dir string) (Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit index directory: %w", err)
	}
	path := filepath.Join(dir, SQLiteFile)
	// synchronous(NORMAL) in WAL mode loses no committed transaction on a
	// process crash, only on a power cut; the index is rebuildable from
	// the stream, so that trade is right for it.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("audit index %s: %w", path, err)
	}
	s := &sqlStore{db: db, d: dialect{name: "sqlite", blob: "BLOB", placeholder: func(int) string { return "?" }}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("audit index %s: %w", path, err)
	}
	return s, nil
}
