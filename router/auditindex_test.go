package router_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/index"
)

// TestOpenIndexLogsUpgrade: OpenIndex hands the server's logger to the
// store, so upgrading an index an earlier auditbus made is logged.
func TestOpenIndexLogsUpgrade(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, router.IndexDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, index.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("CREATE TABLE audit_events (seq BIGINT PRIMARY KEY, time_ns BIGINT NOT NULL, bus TEXT NOT NULL DEFAULT '', event BLOB NOT NULL)")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var logs bustest.LogBuffer
	s, _, err := router.OpenIndex(context.Background(), router.Config{DataDir: data, Log: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !strings.Contains(logs.String(), `"columns":["id",`) || !strings.Contains(logs.String(), `"rows":0`) {
		t.Errorf("upgrade logged %q, want the added columns and the rows filled", logs.String())
	}
}
