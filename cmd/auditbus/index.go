package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/auditbus/auditbus/router"
)

// runIndexRebuild is `auditbus index rebuild`: it empties the audit index and
// asks its indexers to read the events stream again from the first event
// it holds. It needs only the index (the SQLite file under --data-dir or
// the --index-url database), so it works with the servers running (each
// notices within a minute) or stopped (they rebuild when they start).
func runIndexRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("index rebuild", stderr)
	var cfg router.Config
	fs.StringVar(&cfg.DataDir, "data-dir", router.DefaultDataDir, "the server's data directory (its SQLite index is under index/)")
	fs.StringVar(&cfg.IndexURL, "index-url", "", "the servers' PostgreSQL index instead")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the index")
	asJSON := jsonFlag(fs, "the outcome")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	store, _, err := router.OpenIndex(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.RequestRebuild(ctx); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, map[string]bool{"rebuild_requested": true})
	}
	fmt.Fprintln(stdout, "audit index emptied; running servers re-index the events stream from its first event within a minute, stopped ones when they start")
	return nil
}
