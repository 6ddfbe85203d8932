package index

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// schemaLock is the PostgreSQL advisory lock key replicas take while
// they create or upgrade the schema: CREATE ... IF NOT EXISTS is not safe
// against a concurrent create of the same name (it may fail on the
// catalog's unique index), so replicas starting together take turns.
const schemaLock = 0x61756469746278 // "auditbx"

// OpenPostgres connects to the PostgreSQL index at url (postgres://...)
// and creates its table and indexes when missing; an index an earlier
// auditbus made gains the columns this one adds, filled from the events
// it holds (logged on zerolog.Ctx(ctx)). Replicas pointed at the same
// database share one index and may open it at the same time. Errors name
// the server (without its password) and say why.
func OpenPostgres(ctx context.Context, url string) (Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("index URL: %w", err)
	}
	where := cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + cfg.Database
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("audit index postgres %s: %w", where, err)
	}
	s := &sqlStore{db: db, d: dialect{name: "postgres", blob: "BYTEA", key: "BIGINT", addColumn: "ADD COLUMN IF NOT EXISTS",
		placeholder: func(n int) string { return "$" + strconv.Itoa(n) }}}
	if err := migrateLocked(ctx, s); err != nil {
		db.Close() // ends the session, so the lock too
		return nil, fmt.Errorf("audit index postgres %s: %w", where, err)
	}
	return s, nil
}

// migrateLocked runs s.migrate holding schemaLock on a connection of its
// own.
func migrateLocked(ctx context.Context, s *sqlStore) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", schemaLock); err != nil {
		return fmt.Errorf("schema lock: %w", err)
	}
	err = s.migrate(ctx)
	var unlocked bool
	uerr := conn.QueryRowContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", schemaLock).Scan(&unlocked)
	if uerr == nil && !unlocked {
		uerr = errors.New("not held")
	}
	if uerr != nil {
		return errors.Join(err, fmt.Errorf("schema unlock: %w", uerr))
	}
	return err
}
