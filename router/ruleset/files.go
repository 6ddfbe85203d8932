package ruleset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/auditbus/auditbus/rules"
)

// listing is what the configured paths hold now.
type listing struct {
	files []string // in path order, directories expanded in name order
	// kept are paths that could not be read for another reason than not
	// existing: their files keep their state rather than being removed.
	kept map[string]bool
	// errs are the listing problems, one per unreadable path; missing
	// are the paths that do not exist.
	errs    map[string]*rules.Error
	missing []string
	// root maps each file to the configured path it came from.
	root map[string]string
}

// list expands the configured paths the way rules.Load does: a file is
// taken as given, a directory contributes the *.yaml and *.yml files
// directly inside it. A path that does not exist contributes nothing.
func list(paths []string) listing {
	l := listing{kept: map[string]bool{}, errs: map[string]*rules.Error{}, root: map[string]string{}}
	for _, p := range paths {
		files, err := expand(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			l.missing = append(l.missing, p)
		case err != nil:
			l.errs[p] = &rules.Error{Pos: rules.Position{File: p}, Msg: fmt.Sprintf("rule path: %v", err)}
			l.kept[p] = true
		}
		for _, f := range files {
			if _, dup := l.root[f]; !dup {
				l.files = append(l.files, f)
				l.root[f] = p
			}
		}
	}
	return l
}

func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("read rule directory: %w", err)
	}
	var files []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	return files, nil
}

// scanFiles reads every listed file and re-parses those whose content
// changed (after start, once two scans read the same content); files no
// longer listed (deleted, or gone from their directory) are removed with
// their rules, after start once they stayed gone for the settle time. It
// records what changed in m.touched and returns the listing.
func (m *Manager) scanFiles(now time.Time) listing {
	l := list(m.opts.paths)
	for i, f := range l.files {
		m.readFile(f, i, l.root[f], now)
	}
	for path, s := range m.files {
		if _, listed := l.root[path]; listed || l.kept[s.rootPath] || m.holdGone(s, now) {
			continue
		}
		delete(m.files, path)
		m.touched[path] = true
		m.removed = append(m.removed, s)
	}
	return l
}

// readFile updates one file's source when its content changed: at once
// before the Manager has loaded, afterwards when the same changed content
// was read twice in a row, so a file being written is not taken half-way.
// After the load a poll hashes the file and reads it whole only to parse
// it, so an unchanged file of 100,000 rules costs its hash every poll and
// not a copy of its bytes.
func (m *Manager) readFile(path string, order int, root string, now time.Time) {
	src, fp, err := m.look(path)
	s, ok := m.files[path]
	if errors.Is(err, fs.ErrNotExist) {
		return // deleted since listed: the next scan finds it gone
	}
	if !ok {
		s = &source{id: path}
		m.files[path] = s
	}
	if !s.goneSince.IsZero() {
		m.touched[path] = true // back: its pending removal is over
	}
	s.order, s.rootPath, s.goneSince = order, root, time.Time{}
	if ok && fp == s.fingerprint {
		s.candidate, s.changing = "", 0
		return
	}
	if m.loaded && fp != s.candidate {
		s.candidate = fp
		m.noteChanging(s, now)
		return
	}
	if m.loaded && err == nil {
		// Read twice alike: now read it whole, to parse. Content that
		// changed since the hash has been read once, so it waits for the
		// next poll as any change does.
		src, err = m.opts.readFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if read := fingerprint(src, err); read != fp {
			s.candidate = read
			m.noteChanging(s, now)
			return
		}
	}
	m.take(s, path, src, fp, err, now)
}

// look is the fingerprint of a file (or of the error reading it) and, at
// the load, which parses every file, its bytes; afterwards the file is
// only hashed, as it streams past.
func (m *Manager) look(path string) ([]byte, string, error) {
	if m.loaded {
		fp, err := hashFile(path)
		return nil, fp, err
	}
	src, err := m.opts.readFile(path)
	return src, fingerprint(src, err), err
}

// take makes src, the content of fingerprint fp (or the error reading it),
// what the file's source wants to run.
func (m *Manager) take(s *source, path string, src []byte, fp string, err error, now time.Time) {
	s.fingerprint, s.candidate, s.changing, s.held = fp, "", 0, nil
	m.touched[path] = true
	if err != nil {
		s.want, s.parseErrs = nil, rules.Errors{{Pos: rules.Position{File: path}, Msg: fmt.Sprintf("read rule file: %v", err)}}
		return
	}
	if s.running != nil && s.running.fingerprint == fp {
		// Back to the running content (a broken edit undone): nothing to
		// re-parse or reinstall.
		s.want, s.parseErrs = s.running, nil
		return
	}
	s.want, s.parseErrs = m.parseSource(path, src, m.opts.parseOpts)
	if s.want != nil {
		s.want.fingerprint = fp
		m.holdLoss(s, now)
	}
}

// hashFile is the fingerprint of the file at path, read in small pieces,
// and the error opening or reading it, if any.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return fingerprint(nil, err), err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fingerprint(nil, err), err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fingerprint identifies a file's content, or the error reading it.
func fingerprint(src []byte, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}
