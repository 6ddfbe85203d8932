package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// listFlag is a repeatable flag that also takes comma-separated values.
// The first Set of a parse replaces the value inherited from the config
// file or environment, so the command line wins instead of appending.
type listFlag struct {
	list    *[]string
	touched bool
}

func (l *listFlag) String() string {
	if l.list == nil {
		return ""
	}
	return strings.Join(*l.list, ",")
}

func (l *listFlag) Set(v string) error {
	if !l.touched {
		*l.list, l.touched = nil, true
	}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l.list = append(*l.list, p)
		}
	}
	return nil
}

// redactFlag is a comma-separated key list where "-" means none, so an
// operator can turn redaction off explicitly but never by accident.
type redactFlag struct{ keys *[]string }

func (r redactFlag) String() string {
	if r.keys == nil {
		return ""
	}
	if len(*r.keys) == 0 {
		return "-"
	}
	return strings.Join(*r.keys, ",")
}

func (r redactFlag) Set(v string) error {
	*r.keys = []string{}
	if strings.TrimSpace(v) == "-" {
		return nil
	}
	if err := (&listFlag{list: r.keys, touched: true}).Set(v); err != nil {
		return err
	}
	if len(*r.keys) == 0 {
		return errors.New(`no keys given; use "-" to turn redaction off`)
	}
	return nil
}

// parseLayered fills the flags of a FlagSet built by newFS from, in rising
// order of precedence: defaults, the YAML config file named by --config (or
// AUDITBUS_CONFIG), AUDITBUS_<FLAG> environment variables, and args. newFS
// is called once per layer so every layer starts from fresh flag.Values; it
// must use the bound variables' current values as flag defaults, so that
// defining the flags again does not reset what an earlier layer set.
//
// Every FlagSet it shows (for help, or with a flag error) has --config.
func parseLayered(newFS func() *flag.FlagSet, args []string, stderr io.Writer) error {
	cfgPath := os.Getenv("AUDITBUS_CONFIG")
	if d, ok := stderr.(*describer); ok {
		d.fs = newFS()
		configFlag(d.fs, &cfgPath)
		return errUsage
	}
	probe := newFS()
	probe.SetOutput(io.Discard)
	configFlag(probe, &cfgPath)
	if err := probe.Parse(args); err != nil {
		shown := newFS()
		configFlag(shown, &cfgPath)
		return reportUsage(shown, stderr, err)
	}
	if cfgPath != "" {
		if err := applyConfigFile(newFS(), cfgPath); err != nil {
			return err
		}
	}
	if err := applyEnv(newFS()); err != nil {
		return err
	}
	fs := newFS()
	fs.SetOutput(stderr)
	configFlag(fs, &cfgPath)
	if err := fs.Parse(args); err != nil {
		return errUsage // flag has printed the problem and the usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
	return nil
}

func configFlag(fs *flag.FlagSet, path *string) {
	fs.StringVar(path, "config", *path, "YAML config file; keys are flag names (env AUDITBUS_CONFIG)")
}

func reportUsage(fs *flag.FlagSet, stderr io.Writer, err error) error {
	if !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, err)
	}
	fs.SetOutput(stderr)
	fs.Usage()
	return errUsage
}

// applyEnv sets every flag whose AUDITBUS_<NAME> variable is set (dashes
// become underscores: --data-dir is AUDITBUS_DATA_DIR).
func applyEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "AUDITBUS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment %s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

// applyConfigFile sets flags from a YAML mapping whose keys are flag names
// (underscores accepted for dashes); a list value sets a repeatable flag
// once per element. Unknown keys are errors naming their line.
func applyConfigFile(fs *flag.FlagSet, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("config %s:%d:%d: want a mapping of flag names to values", path, m.Line, m.Column)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		name := strings.ReplaceAll(k.Value, "_", "-")
		if fs.Lookup(name) == nil || name == "config" {
			return fmt.Errorf("config %s:%d:%d: unknown key %q", path, k.Line, k.Column, k.Value)
		}
		values := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			values = v.Content
		}
		for _, val := range values {
			if val.Kind != yaml.ScalarNode {
				return fmt.Errorf("config %s:%d:%d: %q: want a scalar or a list of scalars", path, val.Line, val.Column, k.Value)
			}
			if err := fs.Set(name, val.Value); err != nil {
				return fmt.Errorf("config %s:%d:%d: %q: %w", path, val.Line, val.Column, k.Value, err)
			}
		}
	}
	return nil
}
