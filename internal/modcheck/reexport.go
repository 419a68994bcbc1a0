package modcheck

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// SDKPath is the import path of the Dagger Go SDK that the generated
// internal/dagger package re-exports.
const SDKPath = "dagger.io/dagger"

// sdkName is the name the generated file imports the SDK under. It equals the
// SDK's package name, so compiler messages name types as the module code
// spells them (*dagger.Container).
const sdkName = "dagger"

// Reexport is a generated package that re-exports the SDK's exported
// top-level identifiers.
type Reexport struct {
	// Source is the gofmt'ed Go source of the package.
	Source []byte
	// Names are the identifiers re-exported, sorted.
	Names []string
	// Skipped are exported identifiers that could not be re-exported, each
	// with the reason (a generic func whose signature names an unexported
	// identifier, say). Empty for dagger.io/dagger v0.21.8.
	Skipped []string
}

// GenerateReexport parses files (the non-test Go files of the SDK's root
// package, as absolute paths) and returns a package named pkgName that
// re-exports every exported top-level identifier except those in omit:
// types as aliases (generic ones as generic aliases), consts and vars by
// value, funcs as vars, and generic funcs as wrappers with the same
// signature.
func GenerateReexport(pkgName string, files []string, omit map[string]bool) (*Reexport, error) {
	fset := token.NewFileSet()
	g := &reexportGen{fset: fset, omit: omit}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing SDK file: %w", err)
		}
		if err := g.file(file); err != nil {
			return nil, fmt.Errorf("re-exporting %s: %w", filepath.Base(f), err)
		}
	}
	src, err := g.render(pkgName)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(g.decls))
	for _, d := range g.decls {
		names = append(names, d.name)
	}
	sort.Strings(names)
	sort.Strings(g.skipped)
	return &Reexport{Source: src, Names: names, Skipped: g.skipped}, nil
}

type reexportDecl struct {
	name    string
	kind    token.Token       // token.TYPE, token.CONST, token.VAR, token.FUNC
	src     string            // the whole declaration
	imports map[string]string // local name -> path, besides the SDK's
}

// importSet resolves package names in one SDK file and records those a
// declaration uses.
type importSet struct {
	file map[string]string // local name -> import path, as the file imports
	used map[string]string
}

type reexportGen struct {
	fset    *token.FileSet
	omit    map[string]bool
	decls   []reexportDecl
	seen    map[string]bool
	skipped []string
}

func (g *reexportGen) add(name string, kind token.Token, src string, imports map[string]string) {
	if g.seen == nil {
		g.seen = map[string]bool{}
	}
	if g.seen[name] || g.omit[name] {
		return
	}
	g.seen[name] = true
	g.decls = append(g.decls, reexportDecl{name: name, kind: kind, src: src, imports: imports})
}

func (g *reexportGen) file(file *ast.File) error {
	fileImports := map[string]string{} // local name -> path
	for _, imp := range file.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return fmt.Errorf("reading import %s: %w", imp.Path.Value, err)
		}
		name := pathBase(path)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		fileImports[name] = path
	}
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if err := g.typeSpec(s, fileImports); err != nil {
						return err
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							g.add(n.Name, d.Tok, fmt.Sprintf("%s %s = %s.%s", d.Tok, n.Name, sdkName, n.Name), nil)
						}
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv != nil || !d.Name.IsExported() {
				continue
			}
			if d.Type.TypeParams == nil {
				g.add(d.Name.Name, token.FUNC, fmt.Sprintf("var %s = %s.%s", d.Name.Name, sdkName, d.Name.Name), nil)
				continue
			}
			if err := g.genericFunc(d, fileImports); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *reexportGen) typeSpec(s *ast.TypeSpec, fileImports map[string]string) error {
	if !s.Name.IsExported() {
		return nil
	}
	imp := &importSet{file: fileImports, used: map[string]string{}}
	name := s.Name.Name
	if s.TypeParams == nil {
		g.add(name, token.TYPE, fmt.Sprintf("type %s = %s.%s", name, sdkName, name), nil)
		return nil
	}
	// type X[P C, Q D] = dagger.X[P, Q]
	params, args, ok, err := g.typeParams(name, s.TypeParams, imp)
	if err != nil || !ok {
		return err
	}
	g.add(name, token.TYPE, fmt.Sprintf("type %s%s = %s.%s%s", name, params, sdkName, name, args), imp.used)
	return nil
}

// typeParams renders a type parameter list and the matching argument list.
// ok is false (and the identifier recorded as skipped) when a constraint
// names something the generated package cannot.
func (g *reexportGen) typeParams(owner string, list *ast.FieldList, imp *importSet) (params, args string, ok bool, err error) {
	var names []string
	for _, f := range list.List {
		for _, n := range f.Names {
			names = append(names, n.Name)
		}
	}
	tparams := map[string]bool{}
	for _, n := range names {
		tparams[n] = true
	}
	if ok, err := g.referable(owner, fieldTypes(list), tparams, imp); err != nil || !ok {
		return "", "", false, err
	}
	var fields []string
	for _, f := range list.List {
		t, err := g.print(f.Type)
		if err != nil {
			return "", "", false, err
		}
		var fnames []string
		for _, n := range f.Names {
			fnames = append(fnames, n.Name)
		}
		fields = append(fields, strings.Join(fnames, ", ")+" "+t)
	}
	return "[" + strings.Join(fields, ", ") + "]", "[" + strings.Join(names, ", ") + "]", true, nil
}

// genericFunc writes a wrapper with the SDK function's signature:
//
//	func F[T C](a A, b ...B) R { return dagger.F[T](a, b...) }
func (g *reexportGen) genericFunc(d *ast.FuncDecl, fileImports map[string]string) error {
	name := d.Name.Name
	imp := &importSet{file: fileImports, used: map[string]string{}}
	params, targs, ok, err := g.typeParams(name, d.Type.TypeParams, imp)
	if err != nil || !ok {
		return err
	}
	tparams := map[string]bool{}
	for _, f := range d.Type.TypeParams.List {
		for _, n := range f.Names {
			tparams[n.Name] = true
		}
	}
	// Name every parameter so the body can pass them on.
	var callArgs []string
	ftype := &ast.FuncType{Params: &ast.FieldList{}, Results: d.Type.Results}
	i := 0
	for _, f := range d.Type.Params.List {
		var fnames []*ast.Ident
		n := max(len(f.Names), 1)
		for range n {
			pn := fmt.Sprintf("p%d", i)
			i++
			fnames = append(fnames, ast.NewIdent(pn))
			if _, variadic := f.Type.(*ast.Ellipsis); variadic {
				pn += "..."
			}
			callArgs = append(callArgs, pn)
		}
		ftype.Params.List = append(ftype.Params.List, &ast.Field{Names: fnames, Type: f.Type})
	}
	types := append(fieldTypes(ftype.Params), fieldTypes(ftype.Results)...)
	if ok, err := g.referable(name, types, tparams, imp); err != nil || !ok {
		return err
	}
	sig, err := g.print(ftype) // "func(p0 A, p1 B) R"
	if err != nil {
		return err
	}
	call := fmt.Sprintf("%s.%s%s(%s)", sdkName, name, targs, strings.Join(callArgs, ", "))
	body := "return " + call
	if d.Type.Results == nil || len(d.Type.Results.List) == 0 {
		body = call
	}
	src := fmt.Sprintf("func %s%s%s {\n\t%s\n}", name, params, strings.TrimPrefix(sig, "func"), body)
	g.add(name, token.FUNC, src, imp.used)
	return nil
}

// fieldTypes returns the type expressions of a field list (nil-safe).
func fieldTypes(list *ast.FieldList) []ast.Expr {
	if list == nil {
		return nil
	}
	var types []ast.Expr
	for _, f := range list.List {
		types = append(types, f.Type)
	}
	return types
}

// referable reports whether every identifier in the type expressions can be
// named from the generated package: exported SDK identifiers (re-exported
// under the same name), predeclared identifiers, type parameters, and
// selectors on the file's imports (which it records for the generated
// file's import block).
func (g *reexportGen) referable(owner string, types []ast.Expr, tparams map[string]bool, imp *importSet) (bool, error) {
	ok := true
	var err error
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		if !ok || err != nil {
			return false
		}
		switch x := n.(type) {
		case *ast.Field: // names in func or struct types are not references
			ast.Inspect(x.Type, visit)
			return false
		case *ast.SelectorExpr:
			pkg, isIdent := x.X.(*ast.Ident)
			if !isIdent {
				return true
			}
			path, found := imp.file[pkg.Name]
			if !found {
				return true // a field selector, not a package
			}
			if pkg.Name == sdkName && path != SDKPath {
				err = fmt.Errorf("%s: import %q clashes with the SDK's name %q", owner, path, sdkName)
				return false
			}
			if path != SDKPath {
				imp.used[pkg.Name] = path
			}
			return false
		case *ast.Ident:
			switch {
			case x.IsExported(), tparams[x.Name], predeclared[x.Name], x.Name == "_":
			default:
				g.skipped = append(g.skipped, fmt.Sprintf("%s: its signature names unexported %s", owner, x.Name))
				ok = false
			}
		}
		return true
	}
	for _, t := range types {
		ast.Inspect(t, visit)
	}
	return ok, err
}

// predeclared are the universe-scope identifiers a signature may name.
var predeclared = map[string]bool{
	"any": true, "bool": true, "byte": true, "comparable": true, "complex64": true,
	"complex128": true, "error": true, "float32": true, "float64": true, "int": true,
	"int8": true, "int16": true, "int32": true, "int64": true, "rune": true,
	"string": true, "uint": true, "uint8": true, "uint16": true, "uint32": true,
	"uint64": true, "uintptr": true,
}

func (g *reexportGen) print(node ast.Node) (string, error) {
	var buf bytes.Buffer
	if err := printer.Fprint(&buf, g.fset, node); err != nil {
		return "", fmt.Errorf("printing SDK syntax: %w", err)
	}
	return buf.String(), nil
}

func (g *reexportGen) render(pkgName string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by slipway's internal/modcheck. DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "// Package %s stands in for the package `dagger develop` generates: it\n", pkgName)
	fmt.Fprintf(&b, "// re-exports every exported identifier of %s.\n", SDKPath)
	fmt.Fprintf(&b, "package %s\n\nimport (\n\t%s %q\n", pkgName, sdkName, SDKPath)
	imports := map[string]string{}
	for _, d := range g.decls {
		for name, path := range d.imports {
			if prev, dup := imports[name]; dup && prev != path {
				return nil, fmt.Errorf("re-exporting %s: import name %q means both %q and %q", d.name, name, prev, path)
			}
			imports[name] = path
		}
	}
	locals := make([]string, 0, len(imports))
	for name := range imports {
		locals = append(locals, name)
	}
	sort.Strings(locals)
	for _, name := range locals {
		fmt.Fprintf(&b, "\t%s %q\n", name, imports[name])
	}
	b.WriteString(")\n")
	for _, kind := range []token.Token{token.TYPE, token.CONST, token.VAR, token.FUNC} {
		var group []reexportDecl
		for _, d := range g.decls {
			if d.kind == kind {
				group = append(group, d)
			}
		}
		sort.Slice(group, func(i, j int) bool { return group[i].name < group[j].name })
		for _, d := range group {
			b.WriteString("\n" + d.src + "\n")
		}
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting generated package: %w\n%s", err, b.Bytes())
	}
	return src, nil
}

// pathBase is the default package name of an import path: its last element,
// without a major-version suffix (".../v2" -> the element before it).
func pathBase(path string) string {
	elems := strings.Split(path, "/")
	last := elems[len(elems)-1]
	if len(elems) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = elems[len(elems)-2]
	}
	return strings.NewReplacer("-", "_", ".", "_").Replace(last)
}
