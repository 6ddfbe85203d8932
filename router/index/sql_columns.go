package index

import (
	"context"
	"fmt"
	"slices"
)

// addColumns brings an index made by an earlier auditbus up to the
// current columns. The rows it holds have nothing in the new columns, so
// it also asks for a rebuild (see RequestRebuild): the indexers read the
// stream again and fill them, rather than answer queries on the new
// fields with what would look like no matches.
func (s *sqlStore) addColumns(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "SELECT * FROM audit_events LIMIT 0")
	if err != nil {
		return fmt.Errorf("%s audit index schema: read columns: %w", s.d.name, err)
	}
	have, err := rows.Columns()
	rows.Close()
	if err != nil {
		return fmt.Errorf("%s audit index schema: read columns: %w", s.d.name, err)
	}
	added := false
	for _, c := range columns {
		if slices.Contains(have, c) {
			continue
		}
		if _, err := s.db.ExecContext(ctx, "ALTER TABLE audit_events ADD COLUMN "+c+" TEXT NOT NULL DEFAULT ''"); err != nil {
			return fmt.Errorf("%s audit index schema: add column %s: %w", s.d.name, c, err)
		}
		added = true
	}
	if !added {
		return nil
	}
	return s.RequestRebuild(ctx)
}
