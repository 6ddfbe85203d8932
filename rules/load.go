package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Option adjusts parsing.
type Option func(*options)

type options struct {
	lookupEnv   func(string) (string, bool)
	targetCheck func(kind string, config *yaml.Node) error
}

func buildOptions(opts []Option) options {
	o := options{lookupEnv: os.LookupEnv}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithLookupEnv replaces os.LookupEnv for ${NAME} expansion in target
// settings, e.g. to read secrets from somewhere else or to test.
func WithLookupEnv(f func(string) (string, bool)) Option {
	return func(o *options) { o.lookupEnv = f }
}

// WithTargetCheck lets the sinks validate their own settings at load time,
// so a bad webhook URL fails the rule file rather than the first delivery.
func WithTargetCheck(f func(kind string, config *yaml.Node) error) Option {
	return func(o *options) { o.targetCheck = f }
}

// Load parses every rule file under paths and compiles them into one Set.
// Any problem in any file fails the whole load with Errors.
func Load(paths []string, opts ...Option) (*Set, error) {
	files, errs := ruleFiles(paths)
	var all []*Rule
	for _, f := range files {
		rules, err := parsePath(f, opts)
		if err != nil {
			errs = append(errs, asErrors(err)...)
			continue
		}
		all = append(all, rules...)
	}
	set, err := Compile(all)
	if err != nil {
		errs = append(errs, asErrors(err)...)
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	return set, nil
}

// LoadFiles parses each file separately and returns the rules of the good
// ones keyed by path, so a reloader can keep serving a file's previous rules
// when its new version is bad. Duplicates across files are left to Compile.
func LoadFiles(paths []string, opts ...Option) (map[string][]*Rule, error) {
	files, errs := ruleFiles(paths)
	out := make(map[string][]*Rule, len(files))
	for _, f := range files {
		rules, err := parsePath(f, opts)
		if err != nil {
			errs = append(errs, asErrors(err)...)
			continue
		}
		out[f] = rules
	}
	return out, errs.orNil()
}

func parsePath(path string, opts []Option) ([]*Rule, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{Pos: Position{File: path}, Msg: fmt.Sprintf("read rule file: %v", err)}}
	}
	return ParseFile(path, src, opts...)
}

// ruleFiles expands directories (not recursively) into their *.yaml and
// *.yml files in name order; explicit file paths are kept as given.
func ruleFiles(paths []string) ([]string, Errors) {
	var files []string
	var errs Errors
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &Error{Pos: Position{File: p}, Msg: fmt.Sprintf("rule path: %v", err)})
			continue
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			errs = append(errs, &Error{Pos: Position{File: p}, Msg: fmt.Sprintf("read rule directory: %v", err)})
			continue
		}
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	return files, errs
}

// asErrors flattens an error from this package into its list, wrapping any
// other error so that nothing is lost.
func asErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	return Errors{{Msg: err.Error()}}
}
