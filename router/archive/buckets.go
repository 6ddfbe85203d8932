package archive

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Buckets are the storage locations the operator declares: bucket name to
// local directory. A tracker can only write to one of them.
type Buckets struct{ dirs map[string]string }

// ParseBucket reads a --bucket flag's NAME=DIR.
func ParseBucket(s string) (name, dir string, err error) {
	name, dir, ok := strings.Cut(s, "=")
	if !ok || name == "" || dir == "" {
		return "", "", fmt.Errorf("bucket %q: want NAME=DIR", s)
	}
	return name, dir, nil
}

// NewBuckets declares the buckets of dirs (name to directory). Every
// directory is made absolute, so that a change of working directory does
// not move a bucket.
func NewBuckets(dirs map[string]string) (*Buckets, error) {
	b := &Buckets{dirs: map[string]string{}}
	for name, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: directory %s: %w", name, dir, err)
		}
		b.dirs[name] = abs
	}
	return b, nil
}

// Bucket reports whether name is declared and its directory exists.
func (b *Buckets) Bucket(name string) (declared, exists bool) {
	dir, ok := b.dirs[name]
	if !ok {
		return false, false
	}
	st, err := os.Stat(dir)
	return true, err == nil && st.IsDir()
}

// Create makes the directory of a declared bucket (is_obs_created).
func (b *Buckets) Create(name string) error {
	dir, ok := b.dirs[name]
	if !ok {
		return fmt.Errorf("bucket %s is not declared", name)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// Dir is a declared bucket's directory, "" for one not declared.
func (b *Buckets) Dir(name string) string { return b.dirs[name] }
