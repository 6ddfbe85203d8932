package index_test

import (
	"os"
	"path/filepath"

	"github.com/auditbus/auditbus/router/index"
)

// statIndex is the SQLite index's size on disk: the database and its WAL.
func statIndex(dir string) (int64, error) {
	var total int64
	for _, name := range []string{index.SQLiteFile, index.SQLiteFile + "-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}
