package modcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A module that depends on another (a tests module on the module it tests)
// gets, from `dagger develop`, client bindings for it in its internal/dagger
// package: dag.Slipway(...) and one Go type per object of the dependency.
// GenerateBindings writes the signatures of those bindings from the
// dependency's Go source, by the rules of Dagger v0.21.8's engine and Go
// codegen (naming.go; the shapes of cmd/codegen/generator/go/templates
// src/_types/object.go.tmpl and functions.go fieldFunction, as found in
// dagger.io/dagger v0.21.8's own generated dagger.gen.go):
//
//   - the constructor New is a method of Client named after the dependency
//     (dag.Slipway), its required arguments positional and its optional ones
//     (+optional, +default, +defaultPath) in <Name>Opts;
//   - each object is a type named by the schema (TestReport of slipway is
//     SlipwayTestReport, the main object is Slipway), with ID, the
//     XXX_GraphQL* methods, MarshalJSON, WithGraphQLQuery, AsNode, With when
//     a function returns the object itself, an ID type <Name>ID and
//     Client.Load<Name>FromID;
//   - each exported method (a function) and exported field without
//     +private (a getter) is a method: one returning an object is lazy
//     (no ctx, no error: *Container, *SlipwayTestReport); one returning a
//     scalar or a list is (ctx context.Context, ...) (T, error), a list of
//     objects being a slice of values ([]SlipwayCell); one returning nothing
//     is (ctx context.Context, ...) error;
//   - optional arguments of a function go in <Object><Function>Opts, as
//     variadic opts, in declaration order; object arguments are pointers.
//
// The bodies only panic: the bindings exist to be compiled against. What the
// generator cannot map with certainty (maps, floats, enums and interfaces of
// the dependency, inline-struct arguments, non-pointer core objects) is an
// error, not a guess.

// Dependency is a local Go dependency of a module, from its dagger.json.
type Dependency struct {
	// Name is what the depender calls it (dependencies[].name).
	Name string
	// ModuleName is the dependency's own name (its dagger.json name).
	ModuleName string
	// Dir is the directory of its Go source (its dagger.json source).
	Dir string
}

type daggerJSON struct {
	Name         string          `json:"name"`
	SDK          json.RawMessage `json:"sdk"`
	Source       string          `json:"source"`
	Include      []string        `json:"include"`
	Dependencies []struct {
		Name   string `json:"name"`
		Source string `json:"source"`
	} `json:"dependencies"`
}

func readDaggerJSON(dir string) (*daggerJSON, error) {
	b, err := os.ReadFile(filepath.Join(dir, "dagger.json"))
	if err != nil {
		return nil, err
	}
	var cfg daggerJSON
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "dagger.json"), err)
	}
	return &cfg, nil
}

// sdkName is the SDK a dagger.json names: "sdk": "go" or "sdk": {"source": "go"}.
func (c *daggerJSON) sdkSource() string {
	var s string
	if json.Unmarshal(c.SDK, &s) == nil {
		return s
	}
	var o struct{ Source string }
	_ = json.Unmarshal(c.SDK, &o)
	return o.Source
}

// Dependencies reads the dagger.json in moduleDir (none: no dependencies)
// and returns its dependencies. Each must be a local Go module: a remote
// (git) one or another SDK is an error, since the check could not see its
// API.
func Dependencies(moduleDir string) ([]Dependency, error) {
	cfg, err := readDaggerJSON(moduleDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for _, d := range cfg.Dependencies {
		src := filepath.ToSlash(d.Source)
		if !(src == "." || src == ".." || strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") || filepath.IsAbs(d.Source)) {
			return nil, fmt.Errorf("dependency %q (%s): only local dependencies (a relative path) can be compile-checked", d.Name, d.Source)
		}
		root := d.Source
		if !filepath.IsAbs(root) {
			root = filepath.Join(moduleDir, root)
		}
		dcfg, err := readDaggerJSON(root)
		if err != nil {
			return nil, fmt.Errorf("dependency %q: %w", d.Name, err)
		}
		if sdk := dcfg.sdkSource(); sdk != "go" {
			return nil, fmt.Errorf("dependency %q: its SDK is %q; only Go dependencies can be compile-checked", d.Name, sdk)
		}
		name := d.Name
		if name == "" {
			name = dcfg.Name
		}
		deps = append(deps, Dependency{Name: name, ModuleName: dcfg.Name, Dir: filepath.Join(root, filepath.FromSlash(cmpOr(dcfg.Source, ".")))})
	}
	return deps, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// BindingsFile is the file, in the depender's internal/dagger, of a
// dependency's bindings.
func BindingsFile(dep Dependency) string {
	return "internal/dagger/" + lowerCamel(dep.Name) + ".gen.go"
}

// SDKKinds classifies the SDK's exported types for GenerateBindings:
// "object" (a struct with a query selection: Container, Directory, ...),
// "interface", or "scalar" (scalars and enums: Platform, JSON, ReturnType).
func SDKKinds(files []string) (map[string]string, error) {
	fset := token.NewFileSet()
	kinds := map[string]string{}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing SDK file: %w", err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if !ts.Name.IsExported() {
					continue
				}
				switch t := ts.Type.(type) {
				case *ast.StructType:
					kinds[ts.Name.Name] = "struct"
					if l := t.Fields.List; len(l) > 0 && len(l[0].Names) == 1 && l[0].Names[0].Name == "query" {
						kinds[ts.Name.Name] = "object"
					}
				case *ast.InterfaceType:
					kinds[ts.Name.Name] = "interface"
				default:
					kinds[ts.Name.Name] = "scalar"
				}
			}
		}
	}
	return kinds, nil
}

// GenerateBindings returns the Go source (package dagger) of the bindings a
// depender gets for dep. sdkKinds (see SDKKinds) tells a core object
// (*dagger.Container) from a core scalar or enum (dagger.Platform).
func GenerateBindings(dep Dependency, sdkKinds map[string]string) ([]byte, error) {
	g := &bindingGen{
		dep:      dep,
		sdkKinds: sdkKinds,
		fset:     token.NewFileSet(),
		structs:  map[string]*ast.TypeSpec{},
		typeDocs: map[string]*ast.CommentGroup{},
		others:   map[string]bool{},
		methods:  map[string][]*ast.FuncDecl{},
		objects:  map[string]*object{},
	}
	if err := g.parse(); err != nil {
		return nil, err
	}
	main := ""
	for name := range g.structs {
		if upperCamel(name) == upperCamel(dep.ModuleName) {
			main = name
		}
	}
	if main == "" {
		return nil, fmt.Errorf("module %s (%s): no main object: a struct named %s", dep.ModuleName, dep.Dir, upperCamel(dep.ModuleName))
	}
	if _, err := g.object(main); err != nil {
		return nil, err
	}
	var ctor *function
	if g.ctor != nil {
		fn, err := g.function(g.ctor, "New", "constructor New")
		if err != nil {
			return nil, err
		}
		ctor = &fn
	}
	return g.render(main, ctor)
}

type bindingGen struct {
	dep      Dependency
	sdkKinds map[string]string
	fset     *token.FileSet
	files    map[*ast.File]*fileInfo
	structs  map[string]*ast.TypeSpec
	typeDocs map[string]*ast.CommentGroup
	others   map[string]bool // other local types: enums, interfaces, ...
	methods  map[string][]*ast.FuncDecl
	ctor     *ast.FuncDecl
	objects  map[string]*object // by Go name in the dependency
	order    []string
}

type fileInfo struct {
	file    *ast.File
	dagger  string // local name of the module's internal/dagger import
	context string // local name of the context import
}

// object is a dependency object as its depender sees it.
type object struct {
	name   string // Go type in the bindings, e.g. SlipwayTestReport
	schema string // GraphQL type name
	doc    string
	funcs  []function // fields (getters) and functions, in declaration order
}

type function struct {
	name string // Go method name in the bindings
	doc  string
	args []argument
	ret  *typeRef // nil: void
}

type argument struct {
	name     string // schema name (lowerCamel)
	doc      string
	typ      typeRef
	optional bool
}

type typeRef struct {
	kind string // "scalar", "object", "list"
	name string // Go type name in the bindings (scalar or object)
	elem *typeRef
}

func (g *bindingGen) parse() error {
	matches, err := filepath.Glob(filepath.Join(g.dep.Dir, "*.go"))
	if err != nil {
		return fmt.Errorf("listing %s: %w", g.dep.Dir, err)
	}
	sort.Strings(matches)
	g.files = map[*ast.File]*fileInfo{}
	var ordered []*ast.File
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") || filepath.Base(m) == "dagger.gen.go" {
			continue
		}
		f, err := parser.ParseFile(g.fset, m, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parsing dependency %s: %w", g.dep.Name, err)
		}
		fi := &fileInfo{file: f}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			local := pathBase(p)
			if imp.Name != nil {
				local = imp.Name.Name
			}
			switch {
			case strings.HasSuffix(p, "/internal/dagger"):
				fi.dagger = local
			case p == "context":
				fi.context = local
			}
		}
		g.files[f] = fi
		ordered = append(ordered, f)
	}
	for _, f := range ordered {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				if d.Tok != token.TYPE {
					continue
				}
				for _, s := range d.Specs {
					ts := s.(*ast.TypeSpec)
					doc := ts.Doc
					if doc == nil && len(d.Specs) == 1 {
						doc = d.Doc
					}
					if _, ok := ts.Type.(*ast.StructType); ok && ts.TypeParams == nil && !ts.Assign.IsValid() {
						g.structs[ts.Name.Name] = ts
						g.typeDocs[ts.Name.Name] = doc
					} else {
						g.others[ts.Name.Name] = true
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil {
					if d.Name.Name == "New" {
						g.ctor = d
					}
					continue
				}
				if d.Name.IsExported() {
					r := recvName(d.Recv)
					g.methods[r] = append(g.methods[r], d)
				}
			}
		}
	}
	return nil
}

// fileOf returns the file info of a node's file.
func (g *bindingGen) fileOf(n ast.Node) *fileInfo {
	for f, fi := range g.files {
		if f.FileStart <= n.Pos() && n.Pos() <= f.FileEnd {
			return fi
		}
	}
	return &fileInfo{}
}

func (g *bindingGen) errorf(n ast.Node, format string, args ...any) error {
	return fmt.Errorf("%s: %s", g.fset.Position(n.Pos()), fmt.Sprintf(format, args...))
}

// object registers the local struct src as an object (once) and walks
// what it exposes.
func (g *bindingGen) object(src string) (*object, error) {
	if o, ok := g.objects[src]; ok {
		return o, nil
	}
	ts := g.structs[src]
	schema := namespacedObject(src, g.dep.Name, g.dep.ModuleName)
	o := &object{name: goName(schema), schema: schema, doc: docText(g.typeDocs[src])}
	g.objects[src] = o
	g.order = append(g.order, src)

	// Functions: the exported methods of *T (value receivers included).
	for _, m := range g.methods[src] {
		fn, err := g.function(m, m.Name.Name, fmt.Sprintf("function %s.%s", src, m.Name.Name))
		if err != nil {
			return nil, err
		}
		o.funcs = append(o.funcs, fn)
	}
	// Fields: exported, not +private, not json:"-"; named by their json tag.
	for _, f := range ts.Type.(*ast.StructType).Fields.List {
		if len(f.Names) == 0 {
			return nil, g.errorf(f, "object %s: embedded field: not supported by modcheck's bindings", src)
		}
		pragmas, doc := splitPragmas(f.Doc.Text())
		linePragmas, line := splitPragmas(f.Comment.Text())
		for k, v := range linePragmas {
			pragmas[k] = v
		}
		if doc == "" {
			doc = line
		}
		if v, ok := pragmas["private"]; ok && v != "false" {
			continue
		}
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			name := n.Name
			if f.Tag != nil {
				tag, _ := strconv.Unquote(f.Tag.Value)
				if j, ok := lookupTag(tag, "json"); ok {
					j, _, _ = strings.Cut(j, ",")
					if j == "-" {
						continue
					}
					if j != "" {
						name = j
					}
				}
			}
			t, err := g.typeOf(f.Type, fmt.Sprintf("field %s.%s", src, n.Name))
			if err != nil {
				return nil, err
			}
			o.funcs = append(o.funcs, function{name: goName(lowerCamel(name)), doc: doc, ret: &t})
		}
	}
	seen := map[string]bool{}
	for _, fn := range o.funcs {
		if seen[fn.name] || fn.name == "ID" {
			return nil, fmt.Errorf("object %s: two functions or fields are named %s in the schema", src, fn.name)
		}
		seen[fn.name] = true
	}
	return o, nil
}

// lookupTag is reflect.StructTag.Lookup without reflect.
func lookupTag(tag, key string) (string, bool) {
	for _, part := range strings.Fields(tag) {
		k, v, ok := strings.Cut(part, ":")
		if ok && k == key {
			s, err := strconv.Unquote(v)
			return s, err == nil
		}
	}
	return "", false
}

// function maps a method (or New) to a binding.
func (g *bindingGen) function(d *ast.FuncDecl, goMethod, what string) (function, error) {
	_, doc := splitPragmas(d.Doc.Text())
	fn := function{name: goName(lowerCamel(goMethod)), doc: doc}
	if d.Type.TypeParams != nil {
		return fn, g.errorf(d, "%s: generic: not supported", what)
	}
	fi := g.fileOf(d)
	params := d.Type.Params.List
	prevEnd := d.Type.Params.Opening
	for i, p := range params {
		docs, line := g.paramComments(fi.file, prevEnd, p)
		prevEnd = p.End()
		if i == 0 && isSelector(p.Type, fi.context, "Context") {
			continue
		}
		pragmas, pdoc := splitPragmas(docs)
		linePragmas, lineDoc := splitPragmas(line)
		for k, v := range linePragmas {
			pragmas[k] = v
		}
		if pdoc == "" {
			pdoc = lineDoc
		}
		optional := false
		if v, ok := pragmas["optional"]; ok {
			optional = v != "false"
		}
		if _, ok := pragmas["default"]; ok {
			optional = true
		}
		if _, ok := pragmas["defaultPath"]; ok {
			optional = true
		}
		if len(p.Names) == 0 {
			return fn, g.errorf(p, "%s: unnamed parameter: not supported by modcheck's bindings", what)
		}
		if _, inline := p.Type.(*ast.StructType); inline {
			return fn, g.errorf(p, "%s: inline struct parameter: not supported by modcheck's bindings", what)
		}
		for _, n := range p.Names {
			t, err := g.typeOf(p.Type, fmt.Sprintf("%s, argument %s", what, n.Name))
			if err != nil {
				return fn, err
			}
			fn.args = append(fn.args, argument{name: lowerCamel(n.Name), doc: pdoc, typ: t, optional: optional})
		}
	}
	var results []ast.Expr
	if d.Type.Results != nil {
		for _, r := range d.Type.Results.List {
			for range max(len(r.Names), 1) {
				results = append(results, r.Type)
			}
		}
	}
	isError := func(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "error" }
	switch {
	case len(results) == 0, len(results) == 1 && isError(results[0]):
	case len(results) == 1, len(results) == 2 && isError(results[1]):
		t, err := g.typeOf(results[0], what+", result")
		if err != nil {
			return fn, err
		}
		fn.ret = &t
	default:
		return fn, g.errorf(d, "%s: results must be (T), (T, error), (error) or none", what)
	}
	return fn, nil
}

// paramComments returns the doc comment of parameter p (the comments
// between the previous parameter, or the opening parenthesis, and p) and its
// line comment (a comment after p on the same line).
func (g *bindingGen) paramComments(f *ast.File, prevEnd token.Pos, p *ast.Field) (doc, line string) {
	if f == nil {
		return "", ""
	}
	var docs []string
	pLine := g.fset.Position(p.End()).Line
	for _, cg := range f.Comments {
		switch {
		case cg.Pos() > prevEnd && cg.End() <= p.Pos():
			docs = append(docs, cg.Text())
		case cg.Pos() >= p.End() && g.fset.Position(cg.Pos()).Line == pLine:
			line = cg.Text()
		}
	}
	return strings.Join(docs, ""), line
}

func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || pkg == "" {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg && sel.Sel.Name == name
}

// typeOf maps a Go type of the dependency to its binding.
func (g *bindingGen) typeOf(e ast.Expr, what string) (typeRef, error) {
	unsupported := func(why string) (typeRef, error) {
		return typeRef{}, g.errorf(e, "%s: type %s: %s", what, exprString(g.fset, e), why)
	}
	fi := g.fileOf(e)
	switch t := e.(type) {
	case *ast.Ident:
		switch t.Name {
		case "string", "bool", "int":
			return typeRef{kind: "scalar", name: t.Name}, nil
		}
		if _, ok := g.structs[t.Name]; ok {
			o, err := g.object(t.Name)
			if err != nil {
				return typeRef{}, err
			}
			return typeRef{kind: "object", name: o.name}, nil
		}
		if g.others[t.Name] {
			return unsupported("an enum, interface or named type of the module: not supported by modcheck's bindings")
		}
		return unsupported("not a type the Dagger Go SDK maps with certainty here (string, bool, int, objects, lists)")
	case *ast.StarExpr:
		switch x := t.X.(type) {
		case *ast.Ident:
			if _, ok := g.structs[x.Name]; ok {
				o, err := g.object(x.Name)
				if err != nil {
					return typeRef{}, err
				}
				return typeRef{kind: "object", name: o.name}, nil
			}
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && fi.dagger != "" && id.Name == fi.dagger && g.sdkKinds[x.Sel.Name] == "object" {
				return typeRef{kind: "object", name: x.Sel.Name}, nil
			}
		}
		return unsupported("a pointer to something that is not an object")
	case *ast.SelectorExpr:
		if id, ok := t.X.(*ast.Ident); ok && fi.dagger != "" && id.Name == fi.dagger {
			switch g.sdkKinds[t.Sel.Name] {
			case "scalar":
				return typeRef{kind: "scalar", name: t.Sel.Name}, nil // Platform, JSON, core enums
			case "object":
				return unsupported("a core object by value (use a pointer)")
			}
			return unsupported("not a core scalar or enum of the SDK")
		}
		return unsupported("a type from another package")
	case *ast.ArrayType:
		if t.Len != nil {
			return unsupported("an array (use a slice)")
		}
		elem, err := g.typeOf(t.Elt, what)
		if err != nil {
			return typeRef{}, err
		}
		return typeRef{kind: "list", elem: &elem}, nil
	case *ast.Ellipsis:
		elem, err := g.typeOf(t.Elt, what)
		if err != nil {
			return typeRef{}, err
		}
		return typeRef{kind: "list", elem: &elem}, nil
	case *ast.MapType:
		return unsupported("a map: Dagger rejects maps")
	}
	return unsupported("not supported by modcheck's bindings")
}

// output is a type as a result: objects lazy pointers, lists of objects
// slices of values.
func (t typeRef) output() string {
	switch t.kind {
	case "object":
		return "*" + t.name
	case "list":
		if t.elem.kind == "object" {
			return "[]" + t.elem.name
		}
		return "[]" + t.elem.output()
	}
	return t.name
}

// input is a type as an argument: objects (in lists too) are pointers.
func (t typeRef) input() string {
	switch t.kind {
	case "object":
		return "*" + t.name
	case "list":
		return "[]" + t.elem.input()
	}
	return t.name
}

// splitPragmas separates +key[=value] lines from the rest of a comment.
func splitPragmas(text string) (map[string]string, string) {
	pragmas := map[string]string{}
	var rest []string
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "+") {
			k, v, _ := strings.Cut(strings.TrimPrefix(t, "+"), "=")
			pragmas[strings.TrimSpace(k)] = strings.TrimSpace(v)
			continue
		}
		rest = append(rest, l)
	}
	return pragmas, strings.TrimSpace(strings.Join(rest, "\n"))
}

func docText(cg *ast.CommentGroup) string {
	_, doc := splitPragmas(cg.Text())
	return doc
}

func exprString(fset *token.FileSet, e ast.Expr) string {
	var b bytes.Buffer
	_ = format.Node(&b, fset, e)
	return b.String()
}

func (g *bindingGen) render(main string, ctor *function) ([]byte, error) {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("// Code generated by slipway's internal/modcheck from the Go source of the\n")
	w("// Dagger module %q (dependency %q). DO NOT EDIT.\n\n", g.dep.ModuleName, g.dep.Name)
	w("package dagger\n\nimport (\n\t\"context\"\n\n\t\"github.com/dagger/querybuilder\"\n)\n\n")
	w("const notGenerated = %q\n\n", "modcheck stub: compile against it, never run it")

	mainObj := g.objects[main]
	ctorName := goName(lowerCamel(g.dep.Name))
	if ctor == nil {
		ctor = &function{}
	}
	ctor.name, ctor.ret = ctorName, &typeRef{kind: "object", name: mainObj.name}
	if err := g.renderFunc(&b, "Client", "c", ctorName, *ctor); err != nil {
		return nil, err
	}
	for _, src := range g.order {
		o := g.objects[src]
		comment(&b, o.doc)
		w("type %s struct{ query *querybuilder.Selection }\n\n", o.name)
		w("// %sID is the ID of a %s.\ntype %sID string\n\n", o.name, o.name, o.name)
		w("func (c *Client) Load%sFromID(id %sID) *%s { panic(notGenerated) }\n\n", o.name, o.name, o.name)
		w("func (r *%s) WithGraphQLQuery(q *querybuilder.Selection) *%s { return &%s{query: q} }\n\n", o.name, o.name, o.name)
		w("func (r *%s) ID(ctx context.Context) (ID, error) { panic(notGenerated) }\n\n", o.name)
		w("func (r *%s) XXX_GraphQLType() string { return %q }\n\n", o.name, o.schema)
		w("func (r *%s) XXX_GraphQLIDType() string { return \"ID\" }\n\n", o.name)
		w("func (r *%s) XXX_GraphQLID(ctx context.Context) (string, error) { panic(notGenerated) }\n\n", o.name)
		w("func (r *%s) MarshalJSON() ([]byte, error) { panic(notGenerated) }\n\n", o.name)
		w("func (r *%s) AsNode() Node { panic(notGenerated) }\n\n", o.name)
		selfChainable := false
		for _, fn := range o.funcs {
			if fn.ret != nil && fn.ret.kind == "object" && fn.ret.name == o.name {
				selfChainable = true
			}
			if fn.name == "With" {
				selfChainable = false
				break
			}
		}
		if selfChainable {
			w("type With%sFunc func(r *%s) *%s\n\n", o.name, o.name, o.name)
			w("func (r *%s) With(f With%sFunc) *%s { return f(r) }\n\n", o.name, o.name, o.name)
		}
		for _, fn := range o.funcs {
			if err := g.renderFunc(&b, o.name, "r", o.name+fn.name, fn); err != nil {
				return nil, err
			}
		}
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the bindings of %s: %w\n%s", g.dep.Name, err, b.Bytes())
	}
	return src, nil
}

// renderFunc writes one method of recvType; optsPrefix+"Opts" names its
// options struct.
func (g *bindingGen) renderFunc(b *bytes.Buffer, recvType, recv, optsPrefix string, fn function) error {
	var params, opts []string
	if fn.ret == nil || fn.ret.kind != "object" {
		params = append(params, "ctx context.Context")
	}
	for _, a := range fn.args {
		if a.optional {
			line := goName(a.name) + " " + a.typ.input()
			if a.doc != "" {
				line = commentText(a.doc) + "\n" + line
			}
			opts = append(opts, line)
			continue
		}
		name := a.name
		if token.IsKeyword(name) || name == "ctx" || name == "opts" {
			name += "_"
		}
		params = append(params, name+" "+a.typ.input())
	}
	if len(opts) > 0 {
		fmt.Fprintf(b, "// %sOpts contains options for %s.%s\ntype %sOpts struct {\n%s\n}\n\n", optsPrefix, recvType, fn.name, optsPrefix, strings.Join(opts, "\n"))
		params = append(params, "opts ..."+optsPrefix+"Opts")
	}
	var result string
	switch {
	case fn.ret == nil:
		result = "error"
	case fn.ret.kind == "object":
		result = fn.ret.output()
	default:
		result = "(" + fn.ret.output() + ", error)"
	}
	comment(b, fn.doc)
	fmt.Fprintf(b, "func (%s *%s) %s(%s) %s { panic(notGenerated) }\n\n", recv, recvType, fn.name, strings.Join(params, ", "), result)
	return nil
}

func commentText(doc string) string {
	if doc == "" {
		return ""
	}
	return "// " + strings.ReplaceAll(doc, "\n", "\n// ")
}

func comment(b *bytes.Buffer, doc string) {
	if doc != "" {
		b.WriteString(commentText(doc) + "\n")
	}
}

// pathBase is the name a package at an import path is referred to by when
// not renamed: its last element, a major-version suffix skipped.
func pathBase(path string) string {
	elems := strings.Split(path, "/")
	last := elems[len(elems)-1]
	if len(elems) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = elems[len(elems)-2]
	}
	return strings.NewReplacer("-", "_", ".", "_").Replace(last)
}
