package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/slipway-ci/slipway/internal/daggername"
)

// Schema is what `dagger call` accepts: the module's constructor, its
// objects and their functions, and the core objects chained calls reach.
type Schema struct {
	Main        string               // the main object, e.g. "Slipway"
	Constructor *Function            // the arguments before the function name
	Objects     map[string]*Object   // by Go type name: Slipway, TestReport, Container…
	core        map[string]bool      // objects from dagger.io/dagger
	files       map[string]*ast.File // parsed module files, for messages
}

// Object is a Dagger object: its functions and fields, by CLI name.
type Object struct {
	Name  string
	Funcs map[string]*Function
}

// Function is a function (or field) as `dagger call` shows it.
type Function struct {
	Name    string          // CLI name, e.g. "with-registry-auth"
	Args    map[string]*Arg // by CLI name, e.g. "run-id"
	Returns string          // object the chain continues on; "" for a value
	Pending string          // non-empty: a stub; the "not implemented yet" message it returns
}

// Arg is one argument of a function.
type Arg struct {
	Name     string // CLI name
	Bool     bool   // a flag without a value
	Required bool
}

// LoadModule reads the module's Go sources in dir (e.g. .dagger) with
// go/parser: the constructor New, every exported method of the module's
// struct types, and their exported fields. Generated files (dagger.gen.go,
// internal/) are not read.
func LoadModule(dir string) (*Schema, error) {
	srcs, err := ReadModule(dir)
	if err != nil {
		return nil, err
	}
	return ParseModule(srcs)
}

// ReadModule reads the module's own Go files in dir, by file name.
func ReadModule(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	srcs := map[string][]byte{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") || n == "dagger.gen.go" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		srcs[n] = data
	}
	return srcs, nil
}

// ParseModule is LoadModule over sources given by file name.
func ParseModule(srcs map[string][]byte) (*Schema, error) {
	fset := token.NewFileSet()
	s := &Schema{Objects: map[string]*Object{}, core: map[string]bool{}, files: map[string]*ast.File{}}
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := parser.ParseFile(fset, n, srcs[n], parser.ParseComments)
		if err != nil {
			return nil, err
		}
		s.files[n] = f
	}
	structs := map[string]*ast.StructType{}
	for _, f := range s.files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, sp := range gd.Specs {
				ts := sp.(*ast.TypeSpec)
				if st, ok := ts.Type.(*ast.StructType); ok && ts.Name.IsExported() {
					structs[ts.Name.Name] = st
				}
			}
		}
	}
	for name, st := range structs {
		obj := &Object{Name: name, Funcs: map[string]*Function{}}
		for _, fl := range st.Fields.List {
			if fl.Doc != nil && strings.Contains(fl.Doc.Text(), "+private") {
				continue
			}
			for _, id := range fl.Names {
				if id.IsExported() {
					fn := &Function{Name: daggername.CLI(id.Name), Args: map[string]*Arg{}, Returns: s.moduleType(fl.Type, structs)}
					obj.Funcs[fn.Name] = fn
				}
			}
		}
		s.Objects[name] = obj
	}
	for _, f := range s.files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() {
				continue
			}
			fn := &Function{Name: daggername.CLI(fd.Name.Name), Args: s.args(f, fd), Returns: s.result(fd, structs), Pending: stubMessage(fd)}
			if fd.Recv == nil {
				if fd.Name.Name == "New" {
					s.Constructor = fn
					s.Main = fn.Returns
				}
				continue
			}
			recv := typeName(fd.Recv.List[0].Type)
			if obj := s.Objects[recv]; obj != nil {
				obj.Funcs[fn.Name] = fn
			}
		}
	}
	if s.Constructor == nil {
		return nil, fmt.Errorf("no constructor New in the module")
	}
	if s.Objects[s.Main] == nil {
		return nil, fmt.Errorf("constructor New returns %q, not a struct of the module", s.Main)
	}
	return s, nil
}

// stubMessage is the "not implemented yet" message a function's body
// returns, or "" when it has none: its signature is real, its work is not.
func stubMessage(fd *ast.FuncDecl) string {
	msg := ""
	if fd.Body == nil {
		return msg
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if msg != "" {
			return false
		}
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if v, err := strconv.Unquote(lit.Value); err == nil && strings.Contains(v, "not implemented yet") {
				msg = v
			}
		}
		return true
	})
	return msg
}

// args lists a function's arguments (context.Context is not one). An
// argument is optional when the comment above it says +optional, +default
// or +defaultPath.
func (s *Schema) args(f *ast.File, fd *ast.FuncDecl) map[string]*Arg {
	out := map[string]*Arg{}
	prev := fd.Type.Params.Opening
	for _, fl := range fd.Type.Params.List {
		if typeString(fl.Type) == "context.Context" {
			prev = fl.End()
			continue
		}
		optional := false
		for _, cg := range f.Comments {
			if cg.Pos() > prev && cg.End() < fl.Pos() {
				t := cg.Text()
				optional = optional || strings.Contains(t, "+optional") || strings.Contains(t, "+default")
			}
		}
		for _, id := range fl.Names {
			a := &Arg{Name: daggername.CLI(id.Name), Bool: typeString(fl.Type) == "bool", Required: !optional}
			out[a.Name] = a
		}
		prev = fl.End()
	}
	return out
}

// result is the object a function's first result continues the chain on.
func (s *Schema) result(fd *ast.FuncDecl, structs map[string]*ast.StructType) string {
	if fd.Type.Results == nil || len(fd.Type.Results.List) == 0 {
		return ""
	}
	return s.moduleType(fd.Type.Results.List[0].Type, structs)
}

// moduleType maps a Go type of the module to an object name: *dagger.X is
// the core object X, *T a struct of the module; anything else is a value.
func (s *Schema) moduleType(e ast.Expr, structs map[string]*ast.StructType) string {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return ""
	}
	switch t := star.X.(type) {
	case *ast.SelectorExpr:
		if id, ok := t.X.(*ast.Ident); ok && id.Name == "dagger" {
			s.core[t.Sel.Name] = true
			return t.Sel.Name
		}
	case *ast.Ident:
		if structs[t.Name] != nil {
			return t.Name
		}
	}
	return ""
}

func typeName(e ast.Expr) string {
	if st, ok := e.(*ast.StarExpr); ok {
		e = st.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func typeString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.SelectorExpr:
		return typeString(t.X) + "." + t.Sel.Name
	case *ast.StarExpr:
		return "*" + typeString(t.X)
	case *ast.ArrayType:
		return "[]" + typeString(t.Elt)
	case *ast.Ellipsis:
		return "..." + typeString(t.Elt)
	}
	return fmt.Sprintf("%T", e)
}

// AddCore adds the core objects of dagger.io/dagger (Container, File,
// Directory…) read from its generated client, dagger.gen.go: each method
// that selects a field is a function; its arguments are the names it passes
// to Arg, typed by its parameters or by the fields of its Opts struct.
func (s *Schema) AddCore(genFile string) error {
	data, err := os.ReadFile(genFile)
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, genFile, data, 0)
	if err != nil {
		return err
	}
	opts := map[string]map[string]string{} // Opts struct -> field -> type
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, sp := range gd.Specs {
			ts := sp.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if !ok || !strings.HasSuffix(ts.Name.Name, "Opts") {
				continue
			}
			fields := map[string]string{}
			for _, fl := range st.Fields.List {
				for _, id := range fl.Names {
					fields[id.Name] = typeString(fl.Type)
				}
			}
			opts[ts.Name.Name] = fields
		}
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || fd.Body == nil || !fd.Name.IsExported() {
			continue
		}
		recv := typeName(fd.Recv.List[0].Type)
		fn := coreFunction(fd, opts)
		if fn == nil {
			continue
		}
		obj := s.Objects[recv]
		if obj == nil {
			obj = &Object{Name: recv, Funcs: map[string]*Function{}}
			s.Objects[recv] = obj
			s.core[recv] = true
		} else if !s.core[recv] {
			continue // a module type of the same name wins
		}
		obj.Funcs[fn.Name] = fn
	}
	return nil
}

// coreFunction reads one generated method: Select("name"), Arg("x", …).
func coreFunction(fd *ast.FuncDecl, opts map[string]map[string]string) *Function {
	params := map[string]string{}
	optsType := ""
	for _, fl := range fd.Type.Params.List {
		t := typeString(fl.Type)
		if strings.HasPrefix(t, "...") {
			optsType = strings.TrimPrefix(t, "...")
		}
		for _, id := range fl.Names {
			params[id.Name] = t
		}
	}
	var fn *Function
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		name := strings.Trim(lit.Value, `"`)
		switch sel.Sel.Name {
		case "Select":
			if fn == nil {
				fn = &Function{Name: daggername.Kebab(name), Args: map[string]*Arg{}}
			}
		case "Arg":
			if fn == nil || len(call.Args) < 2 {
				return true
			}
			a := &Arg{Name: daggername.Kebab(name)}
			switch v := call.Args[1].(type) {
			case *ast.Ident:
				a.Bool = params[v.Name] == "bool"
				a.Required = true
			case *ast.SelectorExpr: // opts[i].Field
				a.Bool = opts[optsType][v.Sel.Name] == "bool"
			}
			fn.Args[a.Name] = a
		}
		return true
	})
	if fn == nil {
		return nil
	}
	if fd.Type.Results != nil && len(fd.Type.Results.List) > 0 {
		if st, ok := fd.Type.Results.List[0].Type.(*ast.StarExpr); ok {
			if id, ok := st.X.(*ast.Ident); ok {
				fn.Returns = id.Name
			}
		}
	}
	return fn
}

// IsCore reports whether an object comes from dagger.io/dagger.
func (s *Schema) IsCore(name string) bool { return s.core[name] }

// ArgOwner names where an argument exists in the module: "constructor", a
// function of the main object, or "" when nowhere.
func (s *Schema) ArgOwner(arg string) string {
	if s.Constructor.Args[arg] != nil {
		return "constructor"
	}
	main := s.Objects[s.Main]
	names := make([]string, 0, len(main.Funcs))
	for n := range main.Funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if main.Funcs[n].Args[arg] != nil {
			return n
		}
	}
	return ""
}
