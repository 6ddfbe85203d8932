package archive

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/cts"
)

// Housekeep applies each management tracker's bucket_lifecycle at now
// (a day directory older than that many days is removed, by the date in
// its path) and removes temporary files that a killed writer left.
func (w *Writer) Housekeep(trackers []cts.Tracker, now time.Time) {
	for _, t := range trackers {
		dir := w.buckets.Dir(t.ObsInfo.BucketName)
		if dir == "" || t.TrackerType != cts.TrackerSystem {
			continue
		}
		root := filepath.Join(dir, regionDir(t.ObsInfo.FilePrefixName, w.region))
		removeStaleTemps(root, now)
		if days := t.ObsInfo.BucketLifecycle; days > 0 {
			n := expire(root, t.TrackerName, now.UTC().AddDate(0, 0, -int(days)))
			if n > 0 {
				w.log.Info().Str("tracker", t.TrackerName).Int("days", n).Int64("lifecycle", days).Msg("archive: lifecycle removed old days")
			}
		}
	}
}

// expire removes <root>/<y>/<m>/<d>/<tracker> of days before cutoff and
// returns how many.
func expire(root, tracker string, cutoff time.Time) int {
	n := 0
	days, _ := filepath.Glob(filepath.Join(root, "*", "*", "*"))
	for _, d := range days {
		rel, _ := filepath.Rel(root, d)
		parts := strings.Split(rel, string(filepath.Separator))
		y, ey := strconv.Atoi(parts[0])
		m, em := strconv.Atoi(parts[1])
		dd, ed := strconv.Atoi(parts[2])
		if ey != nil || em != nil || ed != nil {
			continue // not a date path: not ours to remove
		}
		if !time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1).Before(cutoff) {
			continue
		}
		if os.RemoveAll(filepath.Join(d, tracker)) == nil {
			n++
		}
		// Empty date directories go too; a non-empty one fails to go.
		_ = os.Remove(d)
		_ = os.Remove(filepath.Dir(d))
		_ = os.Remove(filepath.Dir(filepath.Dir(d)))
	}
	return n
}

func removeStaleTemps(root string, now time.Time) {
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		if info, err := d.Info(); err == nil && now.Sub(info.ModTime()) > staleTemp {
			_ = os.Remove(path)
		}
		return nil
	})
}
