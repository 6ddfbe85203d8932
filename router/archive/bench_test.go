package archive

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// BenchmarkArchiveVsIngest ingests b.N events as the source endpoints
// do (a source record converted to CloudEvents, redacted, published to
// JetStream), then archives them into gzip files, and reports both
// rates, their ratio (1 or more: the archive keeps up with ingest) and
// the archive's bytes per event.
func BenchmarkArchiveVsIngest(b *testing.B) {
	f := newFixture(b)
	w := f.writer(b, DefaultBatch)
	tk := f.tracker(b, cts.ObsInfo{CompressType: "gzip", IsSortByService: true})
	b.ResetTimer()
	start := time.Now()
	f.publish(b, indextest.Events(b, b.N, time.Now().Add(-time.Hour)))
	ingest := time.Since(start)
	start = time.Now()
	drain(b, w, tk)
	write := time.Since(start)
	b.StopTimer()
	var size int64
	_ = filepath.WalkDir(f.dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	n := float64(b.N)
	b.ReportMetric(n/ingest.Seconds(), "ingest_events/s")
	b.ReportMetric(n/write.Seconds(), "archive_events/s")
	b.ReportMetric(ingest.Seconds()/write.Seconds(), "archive/ingest_rate")
	b.ReportMetric(float64(size)/n, "archive_bytes/event")
}
