package modcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNamespacedObject(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ obj, dep, mod, want string }{
		{"Slipway", "slipway", "slipway", "Slipway"},
		{"TestReport", "slipway", "slipway", "SlipwayTestReport"},
		{"Cell", "slipway", "slipway", "SlipwayCell"},
		{"SlipwayReport", "slipway", "slipway", "SlipwayReport"},
		{"Slipwayish", "slipway", "slipway", "SlipwaySlipwayish"}, // no word boundary
		{"Slipway", "ship", "slipway", "Ship"},                    // renamed by the depender
		{"SlipwayReport", "ship", "slipway", "ShipReport"},
		{"Cell", "ship", "slipway", "ShipCell"},
		{"Tests", "slipway-tests", "slipway-tests", "SlipwayTestsTests"},
	} {
		if got := namespacedObject(tt.obj, tt.dep, tt.mod); got != tt.want {
			t.Errorf("namespacedObject(%q, %q, %q) = %q, want %q", tt.obj, tt.dep, tt.mod, got, tt.want)
		}
	}
}

// TestGoNameMatchesSDK checks goName against the names Dagger's own Go
// codegen gave every field, argument and type of the core API in the
// schema of a v0.21.8 engine (the internal/dagger it generates for .dagger): each method that selects
// field "x" is named goName("x"), each option that sets argument "y" is
// named goName("y"), each type whose GraphQL name is "Z" is goName("Z"),
// and each options struct is <Type><Method>Opts (<Method>Opts on Query).
func TestGoNameMatchesSDK(t *testing.T) {
	slow(t)
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(generatedSlipway(t).Dir, "internal", "dagger", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var methods, args, types, opts int
	for _, f := range files {
		if filepath.Base(f) != "dagger.gen.go" {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Body == nil {
				continue
			}
			recv := recvName(fd.Recv)
			first := true
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
				name, _ := strconv.Unquote(lit.Value)
				switch {
				case sel.Sel.Name == "Select" && first && isQuerySelect(sel.X):
					// The method's own field: q := r.query.Select("field").
					first = false
					if name == "node" || strings.HasPrefix(name, "__") {
						return true
					}
					methods++
					if got := goName(name); got != fd.Name.Name {
						t.Errorf("%s.%s selects %q: goName gives %q", recv, fd.Name.Name, name, got)
					}
				case sel.Sel.Name == "Arg" && len(call.Args) == 2:
					// q.Arg("arg", opts[i].Field) names an option.
					if s, ok := call.Args[1].(*ast.SelectorExpr); ok {
						if _, ok := s.X.(*ast.IndexExpr); ok {
							args++
							if got := goName(name); got != s.Sel.Name {
								t.Errorf("%s.%s: option %s sets argument %q: goName gives %q", recv, fd.Name.Name, s.Sel.Name, name, got)
							}
						}
					}
				}
				return true
			})
			if fd.Name.Name == "XXX_GraphQLType" {
				// func (r *T) XXX_GraphQLType() string { return "GraphQLName" }
				if ret, ok := fd.Body.List[0].(*ast.ReturnStmt); ok {
					if lit, ok := ret.Results[0].(*ast.BasicLit); ok {
						gql, _ := strconv.Unquote(lit.Value)
						types++
						// An interface's query builder (NodeClient for Node) is
						// named apart; the generator binds no interfaces.
						if got := goName(gql); got != recv && recv != gql+"Client" {
							t.Errorf("type %s has GraphQL name %q: goName gives %q", recv, gql, got)
						}
					}
				}
			}
		}
		for _, cg := range file.Comments {
			text := cg.Text()
			name, rest, ok := strings.Cut(text, " contains options for ")
			if !ok || !strings.HasSuffix(name, "Opts") {
				continue
			}
			typ, method, _ := strings.Cut(strings.TrimSpace(rest), ".")
			want := typ + method + "Opts"
			if typ == "Query" {
				want = method + "Opts"
			}
			opts++
			if name != want {
				t.Errorf("options of %s.%s are %s, the rule gives %s", typ, method, name, want)
			}
		}
	}
	t.Logf("checked %d methods, %d options, %d types, %d options structs", methods, args, types, opts)
	if methods < 500 || args < 100 || types < 50 || opts < 100 {
		t.Errorf("checked too few names (%d methods, %d options, %d types, %d options structs): did the SDK's layout change?", methods, args, types, opts)
	}
}

// isQuerySelect reports whether x is r.query.
func isQuerySelect(x ast.Expr) bool {
	sel, ok := x.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "query" {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == "r"
}
