package modcheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
)

// ReservedNames are function and field names (compared case-insensitively,
// as the API spells them: Pipeline -> pipeline) that collide with core API
// words. "pipeline" was not callable through `dagger call` on v0.21.8
// (DESIGN §9); every object already has an "id" field.
var ReservedNames = []string{"id", "pipeline"}

// Finding is a module declaration the Dagger Go codegen rejects, or that
// `dagger call` cannot reach, though it compiles.
type Finding struct {
	Pos token.Position
	Msg string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s", f.Pos, f.Msg) }

// LintSignatures parses the module's Go files in dir (not subdirectories;
// test files and the generated dagger.gen.go skipped) and reports what the
// v0.21.8 codegen would reject (DESIGN §9): a map type, directly or through
// a type of the module, in the New constructor, in an exported method of an
// exported type, in an exported interface's method, or in an exported
// struct field of an exported type; and such functions and fields whose
// names are ReservedNames.
func LintSignatures(dir string) ([]Finding, error) {
	fset, files, err := parseModule(dir)
	if err != nil {
		return nil, err
	}
	l := &linter{fset: fset, types: map[string]ast.Expr{}}
	for _, f := range files {
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, s := range gd.Specs {
					ts := s.(*ast.TypeSpec)
					l.types[ts.Name.Name] = ts.Type
				}
			}
		}
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				l.funcDecl(d)
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.IsExported() {
						l.typeSpec(ts)
					}
				}
			}
		}
	}
	sortFindings(l.findings)
	return l.findings, nil
}

func sortFindings(findings []Finding) {
	sort.Slice(findings, func(i, j int) bool {
		a, b := findings[i].Pos, findings[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Offset < b.Offset
	})
}

// parseModule parses the module's Go files in dir (not subdirectories; test
// files and the generated dagger.gen.go skipped), with their comments.
func parseModule(dir string) (*token.FileSet, []*ast.File, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") || filepath.Base(m) == "dagger.gen.go" {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, fmt.Errorf("parsing module file: %w", err)
		}
		files = append(files, f)
	}
	return fset, files, nil
}

type linter struct {
	fset     *token.FileSet
	types    map[string]ast.Expr // the module's type declarations
	findings []Finding
}

func (l *linter) report(pos token.Pos, format string, args ...any) {
	l.findings = append(l.findings, Finding{Pos: l.fset.Position(pos), Msg: fmt.Sprintf(format, args...)})
}

func (l *linter) funcDecl(d *ast.FuncDecl) {
	var what string
	switch {
	case d.Recv == nil && d.Name.Name == "New":
		what = "constructor New"
	case d.Recv != nil && d.Name.IsExported() && token.IsExported(recvName(d.Recv)):
		what = fmt.Sprintf("function %s.%s", recvName(d.Recv), d.Name.Name)
		l.reserved(d.Name, what)
	default:
		return
	}
	l.signature(d.Type, what)
}

func (l *linter) typeSpec(ts *ast.TypeSpec) {
	switch t := ts.Type.(type) {
	case *ast.StructType:
		for _, f := range t.Fields.List {
			for _, n := range f.Names {
				if !n.IsExported() {
					continue
				}
				what := fmt.Sprintf("field %s.%s", ts.Name.Name, n.Name)
				l.reserved(n, what)
				l.noMap(f.Type, what)
			}
		}
	case *ast.InterfaceType:
		for _, m := range t.Methods.List {
			ft, ok := m.Type.(*ast.FuncType)
			if !ok {
				continue // an embedded interface
			}
			for _, n := range m.Names {
				if n.IsExported() {
					what := fmt.Sprintf("function %s.%s", ts.Name.Name, n.Name)
					l.reserved(n, what)
					l.signature(ft, what)
				}
			}
		}
	}
}

func (l *linter) reserved(name *ast.Ident, what string) {
	for _, r := range ReservedNames {
		if strings.EqualFold(name.Name, r) {
			l.report(name.Pos(), "%s: %q collides with the core API word %q (not callable through dagger call); rename it", what, name.Name, r)
		}
	}
}

func (l *linter) signature(ft *ast.FuncType, what string) {
	for _, list := range []*ast.FieldList{ft.Params, ft.Results} {
		if list == nil {
			continue
		}
		for _, f := range list.List {
			l.noMap(f.Type, what)
		}
	}
}

func (l *linter) noMap(t ast.Expr, what string) {
	if via, ok := l.mapIn(t, map[string]bool{}); ok {
		l.report(t.Pos(), "%s: map type %s%s: Dagger v0.21.8 codegen rejects maps; take repeated KEY=VALUE strings", what, l.expr(t), via)
	}
}

// mapIn reports whether t is or contains a map, following the module's own
// non-struct type declarations (struct types are objects: their fields are
// checked where declared). via names the declaration it went through.
func (l *linter) mapIn(t ast.Expr, seen map[string]bool) (via string, ok bool) {
	switch x := t.(type) {
	case *ast.MapType:
		return "", true
	case *ast.StarExpr:
		return l.mapIn(x.X, seen)
	case *ast.ArrayType:
		return l.mapIn(x.Elt, seen)
	case *ast.Ellipsis:
		return l.mapIn(x.Elt, seen)
	case *ast.ChanType:
		return l.mapIn(x.Value, seen)
	case *ast.ParenExpr:
		return l.mapIn(x.X, seen)
	case *ast.IndexExpr:
		if via, ok := l.mapIn(x.X, seen); ok {
			return via, ok
		}
		return l.mapIn(x.Index, seen)
	case *ast.FuncType:
		for _, list := range []*ast.FieldList{x.Params, x.Results} {
			if list == nil {
				continue
			}
			for _, f := range list.List {
				if via, ok := l.mapIn(f.Type, seen); ok {
					return via, ok
				}
			}
		}
	case *ast.StructType:
		for _, f := range x.Fields.List {
			if via, ok := l.mapIn(f.Type, seen); ok {
				return via, ok
			}
		}
	case *ast.Ident:
		decl, local := l.types[x.Name]
		if !local || seen[x.Name] {
			return "", false
		}
		if _, isStruct := decl.(*ast.StructType); isStruct {
			return "", false
		}
		seen[x.Name] = true
		if via, ok := l.mapIn(decl, seen); ok {
			if via == "" {
				via = fmt.Sprintf(" (%s is %s)", x.Name, l.expr(decl))
			}
			return via, true
		}
	}
	return "", false
}

func (l *linter) expr(e ast.Expr) string {
	var b strings.Builder
	_ = printer.Fprint(&b, l.fset, e)
	return b.String()
}

// recvName is the base type name of a method receiver (*T, T, T[P] -> T).
func recvName(recv *ast.FieldList) string {
	if recv == nil || len(recv.List) == 0 {
		return ""
	}
	t := recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}
