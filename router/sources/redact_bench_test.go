package sources

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRedact measures the redactor alone, on the records of each
// source's golden inputs (the raw records, as Build hands them over), so
// before/after figures compare redaction and nothing else.
func BenchmarkRedact(b *testing.B) {
	for _, src := range []struct{ name, glob, wrapper string }{
		{"cloudaudit", "testdata/cloudaudit/*.input.*", ""},
		{"cts", "testdata/cts/*.input.*", "traces"},
		{"k8s", "testdata/k8s/*.input.*", "items"},
	} {
		b.Run(src.name, func(b *testing.B) {
			recs := benchRecords(b, src.glob, src.wrapper)
			r := NewRedactor(DefaultRedactKeys)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, rec := range recs {
					if _, err := r.JSON(rec); err != nil {
						b.Fatal(err)
					}
				}
				n += len(recs)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// benchRecords reads the records of the files matching glob; k8s lists
// name their array items, Items or data_list.
func benchRecords(b *testing.B, glob, wrapper string) []json.RawMessage {
	b.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		b.Fatalf("no inputs for %s: %v", glob, err)
	}
	var recs []json.RawMessage
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var list map[string]json.RawMessage
		if json.Unmarshal(body, &list) == nil {
			for _, k := range []string{wrapper, "Items", "data_list"} {
				if inner, ok := list[k]; ok && k != "" {
					body = inner
				}
			}
		}
		rs, err := Records(body, "")
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		recs = append(recs, rs...)
	}
	return recs
}

// BenchmarkRedactClean is redaction of the records that hold no secret
// (the golden inputs' records redaction leaves as they are, the common
// case): decoded and walked, as every record was before the scan, and
// through JSON, which proves them unchanged in one pass. Compare in one
// run:
//
//	go test ./router/sources -run '^$' -bench RedactClean
func BenchmarkRedactClean(b *testing.B) {
	r := NewRedactor(DefaultRedactKeys)
	var clean []json.RawMessage
	for _, glob := range []string{"testdata/cloudaudit/*.input.*", "testdata/cts/*.input.*", "testdata/k8s/*.input.*"} {
		for _, rec := range benchRecords(b, glob, "") {
			if out, err := r.JSON(rec); err == nil && string(out) == string(rec) {
				clean = append(clean, rec)
			}
		}
	}
	if len(clean) == 0 {
		b.Fatal("no clean records")
	}
	for _, v := range []struct {
		name   string
		redact func([]byte) error
	}{
		{"decode", func(raw []byte) error {
			v, err := decodeStrict(raw)
			if err == nil {
				r.walk(v, 0)
			}
			return err
		}},
		{"scan", func(raw []byte) error { _, err := r.JSON(raw); return err }},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, rec := range clean {
					if err := v.redact(rec); err != nil {
						b.Fatal(err)
					}
				}
				n += len(clean)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
		})
	}
}
