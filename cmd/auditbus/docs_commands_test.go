package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/auditbus/auditbus/internal/doccheck"
)

// checkGoSnippet parses a Go example as the body of a function and checks
// that every pkg.Name it uses from this repository's packages (sinks,
// rules, ...) is an exported name of that package.
func checkGoSnippet(root string, b doccheck.Block) error {
	src := "package p\nfunc _() {\n" + b.Text + "\n}\n"
	f, err := parser.ParseFile(token.NewFileSet(), b.Where(), src, 0)
	if err != nil {
		return fmt.Errorf("not Go statements: %w", err)
	}
	var errs []error
	names := map[string]map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		dir := filepath.Join(root, pkg.Name)
		if _, err := os.Stat(filepath.Join(dir, "doc.go")); err != nil {
			return true // not one of ours (io, http, ...)
		}
		if names[pkg.Name] == nil {
			names[pkg.Name] = exportedNames(dir)
		}
		if !names[pkg.Name][sel.Sel.Name] {
			errs = append(errs, fmt.Errorf("%s.%s: package %s has no such exported name", pkg.Name, sel.Sel.Name, pkg.Name))
		}
		return true
	})
	// Names in comments too: "errors.Is(err, sinks.ErrBadSignature | ...)".
	for _, c := range f.Comments {
		for _, m := range qualified.FindAllStringSubmatch(c.Text(), -1) {
			if set := names[m[1]]; set != nil && !set[m[2]] {
				errs = append(errs, fmt.Errorf("%s.%s (in a comment): package %s has no such exported name", m[1], m[2], m[1]))
			}
		}
	}
	return errors.Join(errs...)
}

var qualified = regexp.MustCompile(`\b([a-z]+)\.([A-Z]\w*)`)

// exportedNames are the exported top-level names of the package in dir.
func exportedNames(dir string) map[string]bool {
	out := map[string]bool{}
	pkgs, _ := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	for _, p := range pkgs {
		for _, f := range p.Files {
			for name, obj := range f.Scope.Objects {
				if ast.IsExported(name) && obj != nil {
					out[name] = true
				}
			}
		}
	}
	return out
}

// checkGoCommands checks a block of go commands that the doc check cannot
// run in the time it has (benchmarks, fuzzing, the whole test suite, tools
// fetched from the network): each command must name packages and
// directories that exist, and each -run, -bench and -fuzz pattern must
// match a function of those packages, so a renamed benchmark or a moved
// package fails here. The whole-suite command is run by .ci/run (see its
// <!-- from: .ci/run --> block).
func checkGoCommands(root string, b doccheck.Block) error {
	var errs []error
	for _, c := range shellCommands(b.Text) {
		if err := checkGoCommand(root, c.line); err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", c.line, err))
		}
	}
	if len(errs) == 0 && len(shellCommands(b.Text)) == 0 {
		return errors.New("no commands in the block")
	}
	return errors.Join(errs...)
}

// networkTools are the go run module@version commands docs may show: they
// need the network, which the doc check does not use.
var networkTools = map[string]bool{"golang.org/x/perf/cmd/benchstat@latest": true}

func checkGoCommand(root, line string) error {
	for _, part := range strings.Split(line, "&&") {
		args, err := splitWords(strings.TrimSpace(stripPipe(part)))
		if err != nil {
			return err
		}
		if len(args) < 2 || args[0] != "go" {
			return errors.New("only go commands belong in a <!-- check: commands --> block; run others with <!-- run -->")
		}
		dir := root
		if args[1] == "-C" && len(args) > 3 {
			dir = filepath.Join(root, args[2])
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
				return fmt.Errorf("go -C %s: no module there", args[2])
			}
			args = append([]string{"go"}, args[3:]...)
		}
		switch args[1] {
		case "test":
			if err := checkGoTest(dir, args[2:]); err != nil {
				return err
			}
		case "run":
			target := args[2]
			if networkTools[target] {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, target, "main.go")); err != nil {
				return fmt.Errorf("go run %s: no main package there", target)
			}
		case "tool":
			if len(args) < 3 || args[2] != "pprof" {
				return fmt.Errorf("go tool: only pprof is expected, not %q", args[2:])
			}
		default:
			return fmt.Errorf("go %s: not a go command this check knows", args[1])
		}
	}
	return nil
}

// stripPipe drops `| tee file` and the like: the check looks at the go part.
func stripPipe(s string) string {
	if i := strings.Index(s, " | "); i >= 0 {
		return s[:i]
	}
	return s
}

// checkGoTest checks the packages and patterns of `go test ARGS` run in dir.
func checkGoTest(dir string, args []string) error {
	var pkgs []string
	patterns := map[string]string{} // flag -> pattern
	valued := map[string]bool{"-run": true, "-bench": true, "-fuzz": true, "-benchtime": true, "-count": true,
		"-cpu": true, "-cpuprofile": true, "-o": true, "-fuzztime": true, "-timeout": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case valued[a] && i+1 < len(args):
			patterns[a] = args[i+1]
			i++
		case strings.HasPrefix(a, "-"):
		default:
			pkgs = append(pkgs, a)
		}
	}
	if len(pkgs) == 0 {
		pkgs = []string{"."}
	}
	var funcs []string
	for _, p := range pkgs {
		d := filepath.Join(dir, strings.TrimSuffix(p, "/..."))
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return fmt.Errorf("package %s: no such directory", p)
		}
		funcs = append(funcs, testFuncs(d, strings.HasSuffix(p, "/..."))...)
	}
	for flagName, prefix := range map[string]string{"-run": "Test", "-bench": "Benchmark", "-fuzz": "Fuzz"} {
		pat, ok := patterns[flagName]
		if !ok || pat == "^$" || pat == "." {
			continue
		}
		if err := matchesOne(flagName, pat, prefix, funcs); err != nil {
			return err
		}
	}
	return nil
}

// matchesOne: pat, split at / as go test does, matches a function's name
// by its first part.
func matchesOne(flagName, pat, prefix string, funcs []string) error {
	first, _, _ := strings.Cut(pat, "/")
	re, err := regexp.Compile(first)
	if err != nil {
		return fmt.Errorf("%s %q: %w", flagName, pat, err)
	}
	for _, f := range funcs {
		if strings.HasPrefix(f, prefix) && re.MatchString(f) {
			return nil
		}
	}
	return fmt.Errorf("%s %q matches no %s function of those packages", flagName, pat, prefix)
}

var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz)\w*)\(`)

// testFuncs lists the Test, Benchmark and Fuzz functions of the _test.go
// files in dir (and below it when recursive).
func testFuncs(dir string, recursive bool) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && (!recursive || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			raw, _ := os.ReadFile(path)
			for _, m := range testFunc.FindAllSubmatch(raw, -1) {
				out = append(out, string(m[1]))
			}
		}
		return nil
	})
	return out
}

// checkArgs checks command lines the doc check cannot run (a server on
// /etc paths, TLS, port 8443) or synopses (`auditbus dlq list [--bus B]`):
// every --flag must be one the subcommand has (its -h lists them), and a
// serve command line must parse as serve parses it.
func checkArgs(root string, b doccheck.Block) error {
	var errs []error
	for _, c := range shellCommands(b.Text) {
		if err := checkArgsLine(root, c.line); err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", c.line, err))
		}
	}
	return errors.Join(errs...)
}

var subcommand = regexp.MustCompile(`^[a-z][a-z-]*$`)

var longFlag = regexp.MustCompile(`(?:^|[\s\[(|])--([a-z][a-z0-9-]*)`)

func checkArgsLine(root, line string) error {
	line = strings.ReplaceAll(line, "go run ./cmd/auditbus", "auditbus")
	words, err := splitWords(line)
	if err != nil {
		return err
	}
	if len(words) < 2 || words[0] != "auditbus" {
		return errors.New("a <!-- check: args --> block holds auditbus command lines only")
	}
	sub := []string{words[1]} // the command, and its subcommand if it has one
	if len(words) > 2 && subcommand.MatchString(words[2]) {
		sub = append(sub, words[2])
	}
	if sub[0] == "serve" && !strings.ContainsAny(line, "[(") {
		c := defaultServeConfig()
		if err := parseLayered(c.flags, words[2:], io.Discard); err != nil {
			return err
		}
	}
	dir, err := buildBinary()
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "auditbus")
	help, _ := exec.Command(bin, append(sub, "-h")...).CombinedOutput()
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(help), -1) {
		known[m[1]] = true
	}
	if len(known) == 0 {
		return fmt.Errorf("`auditbus %s -h` lists no flags:\n%s", strings.Join(sub, " "), help)
	}
	for _, m := range longFlag.FindAllStringSubmatch(stripComment(line), -1) {
		if !known[m[1]] {
			return fmt.Errorf("auditbus %s has no flag --%s", strings.Join(sub, " "), m[1])
		}
	}
	return nil
}
