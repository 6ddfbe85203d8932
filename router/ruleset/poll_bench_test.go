package ruleset

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/rules/rulestest"
)

// BenchmarkPollUnchanged is one poll of a file of 100,000 generated rules
// that did not change: what hot reload costs while idle, every poll
// interval (B/op: what a poll allocates).
func BenchmarkPollUnchanged(b *testing.B) {
	path := filepath.Join(b.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, rulestest.Rules(100000, 1), 0o644); err != nil {
		b.Fatal(err)
	}
	m := New(WithFiles(path), WithPollInterval(-1))
	if err := m.Start(context.Background(), nil, func(context.Context, *rules.Set) error { return nil }); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.Stop)
	b.ReportAllocs()
	for b.Loop() {
		m.pollOnce(context.Background())
	}
}
