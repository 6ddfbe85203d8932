package archive

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/cts"
)

// CTS's transfer layout (the CTS user guide, "Querying Archived Traces"):
//
//	<bucket>/<file_prefix_name>/CloudTraces/<region>/<yyyy>/<m>/<d>/<tracker>/<service>/
//	<file_prefix_name>_CloudTrace_<region>_<yyyy-mm-ddThh-mm-ssZ>_<16 hex>.json.gz
//
// The date path is the traces' day (UTC), months and days without a
// leading zero as CTS writes them; the service directory is there only
// with is_sort_by_service. Where CTS puts the upload time and random
// characters, auditbus puts the newest trace's time and the file's first
// stream sequence in hex: both follow from the file's events, so a file
// rewritten after a crash has the same name.
const (
	tracesDir  = "CloudTraces"
	fileMarker = "CloudTrace"
	tmpPrefix  = ".tmp-"
	timeLayout = "2006-01-02T15-04-05Z"
)

// group is the traces of one file.
type group struct {
	dir      string // relative to the bucket
	firstSeq uint64
	newest   time.Time
	traces   []cts.Trace
}

// regionDir is where a prefix's traces of a region are, relative to the
// bucket.
func regionDir(prefix, region string) string {
	if prefix == "" {
		return filepath.Join(tracesDir, region)
	}
	return filepath.Join(prefix, tracesDir, region)
}

// dayDir is the directory of a tracker's files of a day, before any
// service directory.
func dayDir(prefix, region string, day time.Time, tracker string) string {
	return filepath.Join(regionDir(prefix, region), strconv.Itoa(day.Year()), strconv.Itoa(int(day.Month())), strconv.Itoa(day.Day()), tracker)
}

// fileName is a file's name in its directory.
func fileName(prefix, region string, g *group, compress string) string {
	name := fmt.Sprintf("%s_%s_%s_%016x.json", fileMarker, region, g.newest.UTC().Format(timeLayout), g.firstSeq)
	if prefix != "" {
		name = prefix + "_" + name
	}
	if compress != cts.CompressJSON {
		name += ".gz"
	}
	return name
}

// serviceDir is a trace's service_type as one safe path step.
func serviceDir(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
	switch s {
	case "", ".", "..":
		return "unknown"
	}
	return s
}

// encode is a file's content: a JSON array of traces, one a line,
// gzipped unless compress is json. The gzip header names the JSON file
// inside and has no time, so the same traces give the same bytes.
func encode(traces []cts.Trace, jsonName, compress string) ([]byte, error) {
	var js bytes.Buffer
	js.WriteString("[\n")
	for i, t := range traces {
		b, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("encode trace %s: %w", t.TraceID, err)
		}
		js.Write(b)
		if i < len(traces)-1 {
			js.WriteByte(',')
		}
		js.WriteByte('\n')
	}
	js.WriteString("]\n")
	if compress == cts.CompressJSON {
		return js.Bytes(), nil
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Name = jsonName
	if _, err := zw.Write(js.Bytes()); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return gz.Bytes(), nil
}
