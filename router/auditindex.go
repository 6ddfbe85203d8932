package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/auditbus/auditbus/router/index"
)

// IndexDir is the SQLite audit index's directory under the data dir.
const IndexDir = "index"

// OpenIndex opens the audit index cfg names: PostgreSQL at IndexURL, else
// SQLite under DataDir/index. It also returns the name of the durable
// consumer that feeds it: replicas sharing a PostgreSQL index share one,
// while each SQLite index (one per data dir) has its own, so that it sees
// every event.
func OpenIndex(ctx context.Context, cfg Config) (index.Store, string, error) {
	cfg = withDefaults(cfg)
	ctx = cfg.Log.WithContext(ctx) // an upgrade of the index logs what it did
	if cfg.IndexURL != "" {
		if !strings.HasPrefix(cfg.IndexURL, "postgres://") && !strings.HasPrefix(cfg.IndexURL, "postgresql://") {
			return nil, "", fmt.Errorf("--index-url: want postgres://user:password@host:port/database, got a URL of another scheme")
		}
		s, err := index.OpenPostgres(ctx, cfg.IndexURL)
		return s, index.ConsumerName, err
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, IndexDir))
	if err != nil {
		return nil, "", err
	}
	s, err := index.OpenSQLite(ctx, dir)
	if err != nil {
		return nil, "", err
	}
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(host + "\x00" + dir))
	return s, index.ConsumerName + "-" + hex.EncodeToString(sum[:6]), nil
}

// startIndex opens the audit index and runs its indexer until Stop.
func (s *Server) startIndex(ctx context.Context) error {
	if s.cfg.IndexOff {
		return nil
	}
	store, consumer, err := OpenIndex(ctx, s.cfg)
	if err != nil {
		return err
	}
	s.index = store
	opts := []index.Option{index.WithConsumerName(consumer), index.WithLogger(s.cfg.Log), index.WithRegisterer(s.reg)}
	if s.cfg.IndexMaxAge > 0 {
		opts = append(opts, index.WithMaxAge(s.cfg.IndexMaxAge))
	}
	s.indexer = index.NewIndexer(s.js, store, opts...)
	s.bgWG.Go(func() { _ = s.indexer.Run(s.bgCtx) })
	return nil
}

// Index is the audit index; nil with IndexOff.
func (s *Server) Index() index.Store { return s.index }
