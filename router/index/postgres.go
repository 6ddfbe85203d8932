package index

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenPostgres connects to the PostgreSQL index at url (postgres://...)
// and creates its table and indexes when missing. Replicas pointed at the
// same database share one index. Errors name the server (without its
// password) and say why.
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
	s := &sqlStore{db: db, d: dialect{name: "postgres", blob: "BYTEA", placeholder: func(n int) string { return "$" + strconv.Itoa(n) }}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("audit index postgres %s: %w", where, err)
	}
	return s, nil
}
