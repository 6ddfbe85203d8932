package router_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
)

// TestDataDirLocked: a second serve on a data dir in use refuses to
// start, naming the holder; once the first stops, the dir is free.
func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	first := start(t, dir, nil)
	cfg := router.Config{Listen: "127.0.0.1:0", DataDir: dir, NATSListen: "-", Log: zerolog.Nop(), Stdout: io.Discard}
	if s, err := router.Start(context.Background(), cfg); !errors.Is(err, router.ErrDataDirInUse) {
		if s != nil {
			s.Stop(context.Background())
		}
		t.Fatalf("second start on %s: %v, want ErrDataDirInUse", dir, err)
	}
	first.Stop(context.Background())
	s, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start after the first stopped: %v", err)
	}
	s.Stop(context.Background())
}
