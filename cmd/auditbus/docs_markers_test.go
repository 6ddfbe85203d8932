package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/auditbus/auditbus/internal/doccheck"
)

// checkTestMarker verifies <!-- test: PKG KEY -->: package directory PKG has
// the test function KEY names (KEY is TestName or TestName/label), and
// that test, or a function of its package it reaches, calls
// doccheck.Read (or Find) with this block's file and KEY, so the test
// really runs the block rather than a copy of it.
func checkTestMarker(root string, b doccheck.Block) error {
	if len(b.Marker.Args) != 2 {
		return errors.New("want <!-- test: PKG TestName --> (PKG the package directory from the repository root; TestName/label when one test reads several blocks)")
	}
	pkg, key := b.Marker.Args[0], b.Marker.Args[1]
	test, _, _ := strings.Cut(key, "/")
	dir := filepath.Join(root, pkg)
	funcs, consts, err := parseTestPackage(dir)
	if err != nil {
		return err
	}
	if funcs[test] == nil {
		return fmt.Errorf("package %s has no func %s in its _test.go files: name the test that reads this block", pkg, test)
	}
	rel, _ := filepath.Rel(dir, filepath.Join(root, b.File))
	want := fmt.Sprintf("doccheck.Read(t, %q, %q)", filepath.ToSlash(rel), key)
	seen := map[string]bool{test: true}
	queue := []string{test}
	for len(queue) > 0 {
		fn := funcs[queue[0]]
		queue = queue[1:]
		found := false
		ast.Inspect(fn, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if funcs[n.Name] != nil && !seen[n.Name] {
					seen[n.Name] = true
					queue = append(queue, n.Name)
				}
			case *ast.CallExpr:
				if readsBlock(n, consts, dir, filepath.Join(root, b.File), key) || passesKey(n, key, funcs, consts, dir, filepath.Join(root, b.File)) {
					found = true
				}
			}
			return true
		})
		if found {
			return nil
		}
	}
	return fmt.Errorf("%s (nor any function of package %s it calls) does not read this block: call %s where it uses the block", test, pkg, want)
}

// passesKey: call hands key, as a string literal, to a function of the
// package that reads file with doccheck.Read (a helper such as
// recipe(t, "TestX/label", ...)), or that calls doccheck.Read with a path
// it is given when call hands it file's path too.
func passesKey(call *ast.CallExpr, key string, funcs map[string]*ast.FuncDecl, consts map[string]string, dir, file string) bool {
	id, ok := call.Fun.(*ast.Ident)
	if !ok || funcs[id.Name] == nil {
		return false
	}
	hasKey, hasFile := false, false
	for _, a := range call.Args {
		if v, ok := stringValue(a, consts); ok && v == key {
			hasKey = true
		} else if ok && filepath.Clean(filepath.Join(dir, v)) == filepath.Clean(file) {
			hasFile = true // the helper is told the doc too
		}
	}
	if !hasKey {
		return false
	}
	reads := false
	ast.Inspect(funcs[id.Name], func(n ast.Node) bool {
		c, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Read" && len(c.Args) == 3 {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "doccheck" {
				p, ok := stringValue(c.Args[1], consts)
				if ok && filepath.Clean(filepath.Join(dir, p)) == filepath.Clean(file) || !ok && hasFile {
					reads = true
				}
			}
		}
		return true
	})
	return reads
}

// readsBlock: call is doccheck.Read(_, path, key) or doccheck.Find(path,
// key) with path (relative to dir) naming file.
func readsBlock(call *ast.CallExpr, consts map[string]string, dir, file, key string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "doccheck" {
		return false
	}
	args := call.Args
	switch {
	case sel.Sel.Name == "Read" && len(args) == 3:
		args = args[1:]
	case sel.Sel.Name == "Find" && len(args) == 2:
	default:
		return false
	}
	path, ok1 := stringValue(args[0], consts)
	k, ok2 := stringValue(args[1], consts)
	return ok1 && ok2 && k == key && filepath.Clean(filepath.Join(dir, path)) == filepath.Clean(file)
}

func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		s, ok := consts[e.Name]
		return s, ok
	}
	return "", false
}

// parseTestPackage returns the functions (and methods, by name) and the
// string constants of the Go files in dir.
func parseTestPackage(dir string) (map[string]*ast.FuncDecl, map[string]string, error) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, nil, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("package directory: %w", err)
	}
	funcs, consts := map[string]*ast.FuncDecl{}, map[string]string{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					funcs[d.Name.Name] = d
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						vs, ok := spec.(*ast.ValueSpec)
						if !ok || d.Tok != token.CONST {
							continue
						}
						for i, n := range vs.Names {
							if i < len(vs.Values) {
								if s, ok := stringValue(vs.Values[i], nil); ok {
									consts[n.Name] = s
								}
							}
						}
					}
				}
			}
		}
	}
	if len(funcs) == 0 {
		return nil, nil, fmt.Errorf("no Go files in %s", dir)
	}
	return funcs, consts, nil
}
