package replay

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/sources"
)

// Trackers lists trackers; router/archive's Trackers is the real one.
type Trackers interface {
	List(ctx context.Context, project string) ([]cts.Tracker, error)
}

// archiveSource reads a tracker's trace files of a range.
type archiveSource struct {
	req   *Request
	root  string   // <bucket dir>/<file_prefix_name>/CloudTraces
	files []string // relative to root, in stream order of their first events
}

// tracesDir is the layout's directory under the prefix (router/archive).
const tracesDir = "CloudTraces"

// findTracker is the one management tracker the request names.
func findTracker(ctx context.Context, trackers Trackers, req *Request) (cts.Tracker, error) {
	all, err := trackers.List(ctx, req.ProjectID)
	if err != nil {
		return cts.Tracker{}, fmt.Errorf("replay: trackers: %w", err)
	}
	var found []cts.Tracker
	for _, t := range all {
		if t.TrackerName == req.Tracker {
			found = append(found, t)
		}
	}
	switch {
	case len(found) == 0 && req.ProjectID != "":
		return cts.Tracker{}, fmt.Errorf("%w: no tracker %q in project %s", ErrUnknownTracker, req.Tracker, req.ProjectID)
	case len(found) == 0:
		return cts.Tracker{}, fmt.Errorf("%w: no tracker %q in any project", ErrUnknownTracker, req.Tracker)
	case len(found) > 1:
		projects := make([]string, len(found))
		for i, t := range found {
			projects[i] = t.ProjectID
		}
		return cts.Tracker{}, fmt.Errorf("%w: tracker %q exists in projects %v: give project_id", ErrInvalid, req.Tracker, projects)
	}
	t := found[0]
	switch {
	case t.TrackerType != cts.TrackerSystem:
		return t, fmt.Errorf("%w: tracker %q is a %s tracker, which archives nothing; replay a system tracker", ErrInvalid, t.TrackerName, t.TrackerType)
	case t.ObsInfo.BucketName == "":
		return t, fmt.Errorf("%w: tracker %q has no bucket (obs_info.bucket_name), so it archives nothing", ErrInvalid, t.TrackerName)
	}
	return t, nil
}

// openArchive lists the tracker's files of the range's days (UTC), in
// every region, with a warning when there are none. It lists the day
// directories the archive has, not the range's days, so a range of
// centuries costs what the archive holds; ctx ends it.
func openArchive(ctx context.Context, t cts.Tracker, bucketDir string, req *Request) (*archiveSource, []string, error) {
	if bucketDir == "" {
		return nil, nil, fmt.Errorf("%w: tracker %q writes to bucket %s, which this server does not declare (--bucket)", ErrInvalid, t.TrackerName, t.ObsInfo.BucketName)
	}
	root := filepath.Join(bucketDir, t.ObsInfo.FilePrefixName, tracesDir)
	regions, err := os.ReadDir(root)
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, fmt.Errorf("replay: archive of tracker %q: %w", t.TrackerName, pathless(err))
	}
	src := &archiveSource{req: req, root: root}
	for _, reg := range regions {
		if !reg.IsDir() {
			continue
		}
		err := src.days(ctx, reg.Name(), func(day string) error {
			return src.collect(ctx, filepath.Join(day, t.TrackerName))
		})
		if err != nil {
			return nil, nil, err
		}
	}
	slices.SortFunc(src.files, func(a, b string) int { return strings.Compare(fileOrder(a), fileOrder(b)) })
	var warnings []string
	if len(src.files) == 0 {
		// Not root: a warning goes to API callers, who need not know
		// where the server keeps its buckets.
		warnings = append(warnings, fmt.Sprintf("tracker %q has archived no file for the days of the range (bucket %s, prefix %q)",
			t.TrackerName, t.ObsInfo.BucketName, t.ObsInfo.FilePrefixName))
	}
	return src, warnings, nil
}

// days calls fn with each <region>/<yyyy>/<m>/<d> directory of the
// region whose day (UTC) is in the range, in date order.
func (s *archiveSource) days(ctx context.Context, region string, fn func(day string) error) error {
	first := s.req.From.UTC().Truncate(24 * time.Hour)
	last := s.req.To.UTC()
	return s.numbered(ctx, region, func(y int) bool { return y >= first.Year() && y <= last.Year() }, func(year string, y int) error {
		return s.numbered(ctx, year, func(m int) bool {
			start := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
			return m <= 12 && start.AddDate(0, 1, 0).After(first) && !start.After(last)
		}, func(month string, m int) error {
			return s.numbered(ctx, month, func(d int) bool {
				day := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
				return day.Day() == d && !day.Before(first) && !day.After(last) // day.Day() != d: no such date
			}, func(day string, _ int) error { return fn(day) })
		})
	})
}

// numbered calls fn, in numeric order, with each subdirectory of dir
// (relative to the root) named by a number as the archive writes them
// (no sign, no leading zero) that keep accepts; a missing dir has none.
func (s *archiveSource) numbered(ctx context.Context, dir string, keep func(int) bool, fn func(sub string, n int) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(s.root, dir))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replay: archive %s: %w", dir, pathless(err))
	}
	var ns []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if e.IsDir() && err == nil && n > 0 && strconv.Itoa(n) == e.Name() && keep(n) {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	for _, n := range ns {
		if err := fn(filepath.Join(dir, strconv.Itoa(n)), n); err != nil {
			return err
		}
	}
	return nil
}

// pathless is err without the file system path an *fs.PathError names:
// errors reach API callers, and messages name files relative to the
// tracker's CloudTraces directory.
func pathless(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// collect adds the trace files under dir (and its service directories).
func (s *archiveSource) collect(ctx context.Context, dir string) error {
	err := filepath.WalkDir(filepath.Join(s.root, dir), func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if os.IsNotExist(err) {
				return fs.SkipDir
			}
			return err
		}
		name := d.Name()
		if d.Type().IsRegular() && !strings.HasPrefix(name, ".") && strings.Contains(name, "CloudTrace_") &&
			(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.gz")) {
			rel, _ := filepath.Rel(s.root, path)
			s.files = append(s.files, rel)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay: archive %s: %w", dir, pathless(err))
	}
	return nil
}

// fileOrder is the file's first stream sequence, the 16 hex digits ending
// its name, then its path: the order the writer wrote the events in.
func fileOrder(rel string) string {
	name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(rel), ".gz"), ".json")
	if i := strings.LastIndexByte(name, '_'); i >= 0 {
		return name[i+1:] + "/" + rel
	}
	return rel
}

func (s *archiveSource) read(ctx context.Context, emit func(item) error) error {
	for _, rel := range s.files {
		if err := s.readFile(ctx, rel, emit); err != nil {
			return err
		}
	}
	return nil
}

// readFile emits the traces of one file that are in the range.
func (s *archiveSource) readFile(ctx context.Context, rel string, emit func(item) error) error {
	f, err := os.Open(filepath.Join(s.root, rel))
	if err != nil {
		return fmt.Errorf("replay: archive file %s: %w", rel, pathless(err))
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(rel, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("replay: archive file %s: %w", rel, err)
		}
		defer zr.Close()
		r = zr
	}
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil { // [
		return fmt.Errorf("replay: archive file %s: %w", rel, err)
	}
	var raws []json.RawMessage // a file holds one claimed range at most (5,000 traces)
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("replay: archive file %s, trace %d: %w", rel, i, err)
		}
		raws = append(raws, raw)
	}
	for _, it := range s.convert(raws, rel) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}

// convert makes a file's traces into items on every core: rebuilding
// each trace's event is most of an archive replay's work.
func (s *archiveSource) convert(raws []json.RawMessage, rel string) []item {
	items := make([]item, len(raws))
	workers := max(runtime.GOMAXPROCS(0), 1)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			for i := k; i < len(raws); i += workers {
				items[i] = s.trace(raws[i], rel, i)
			}
		})
	}
	wg.Wait()
	return items
}

// trace is one archived trace as an item; its event is built only when
// the trace is of the range (out of it, data is nil). A trace that makes
// no event (no readable time, or one the CTS source refuses) is an item
// refused: one trace does not end the replay of the archive.
func (s *archiveSource) trace(raw json.RawMessage, rel string, i int) item {
	it := item{position: rel + "#" + strconv.Itoa(i)}
	var t struct {
		Time    int64  `json:"time"`
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		it.refused = &Failure{ID: t.TraceID, Position: it.position, Error: "archived trace: " + err.Error()}
		return it
	}
	it.at = time.UnixMilli(t.Time)
	if !s.req.inRange(it.at) {
		return it
	}
	data, err := ArchiveEvent(raw)
	if err != nil {
		it.refused = &Failure{ID: t.TraceID, Position: it.position, Error: "archived trace: " + err.Error()}
		return it
	}
	it.data = data
	return it
}

// noRedaction: archived traces were redacted when they were ingested.
var noRedaction = sources.NewRedactor(nil)

// ArchiveEvent is the stored form (structured CloudEvent JSON) of an
// archived trace: the event the CTS source (POST /v1/sources/cts) makes
// of it. For a trace ingested from CTS this is the event the stream
// holds, except what the trace format does not keep: region (region_id),
// fields of the original record that are not trace fields, and a
// trace_rating the record did not have (the archive writes the one the
// index derives). Tencent and Kubernetes events come back as the CTS
// traces the archive rendered them as.
func ArchiveEvent(trace []byte) ([]byte, error) {
	evs, err := sources.CTS(trace, noRedaction)
	if err != nil {
		return nil, err
	}
	if len(evs) != 1 {
		return nil, fmt.Errorf("a trace made %d events", len(evs))
	}
	return cejson.Marshal(&evs[0])
}
