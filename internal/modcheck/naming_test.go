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

// TestCamel pins lowerCamel and upperCamel to what
// github.com/iancoleman/strcase v0.3.0 (the engine's) returns for the same
// inputs, including its quirks (HTTPServer -> httpserver, a1b -> a1B).
func TestCamel(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, lower, upper string }{
		{"JSON", "json", "Json"},
		{"Junit", "junit", "Junit"},
		{"Ci", "ci", "Ci"},
		{"runID", "runId", "RunId"},
		{"sourceURL", "sourceUrl", "SourceUrl"},
		{"RunID", "runId", "RunId"},
		{"ExitCode", "exitCode", "ExitCode"},
		{"DryRun", "dryRun", "DryRun"},
		{"gitTag", "gitTag", "GitTag"},
		{"pr", "pr", "Pr"},
		{"slipway", "slipway", "Slipway"},
		{"slipway-tests", "slipwayTests", "SlipwayTests"},
		{"my_mod", "myMod", "MyMod"},
		{"HTTPServer", "httpserver", "Httpserver"},
		{"withHTTPServer", "withHttpserver", "WithHttpserver"},
		{"v2Thing", "v2Thing", "V2Thing"},
		{"a1b", "a1B", "A1B"},
		{"x.y", "xY", "XY"},
		{"slipway_TestReport", "slipwayTestReport", "SlipwayTestReport"},
		{"ID", "id", "Id"},
		{"sha256Sum", "sha256Sum", "Sha256Sum"},
		{"e2eTest", "e2ETest", "E2ETest"},
		{"E2ETest", "e2Etest", "E2Etest"},
		{"fooBAR", "fooBar", "FooBar"},
		{" spaced name ", "spacedName", "SpacedName"},
		{"PostMan", "postMan", "PostMan"},
	} {
		if got := lowerCamel(tt.in); got != tt.lower {
			t.Errorf("lowerCamel(%q) = %q, strcase.ToLowerCamel gives %q", tt.in, got, tt.lower)
		}
		if got := upperCamel(tt.in); got != tt.upper {
			t.Errorf("upperCamel(%q) = %q, strcase.ToCamel gives %q", tt.in, got, tt.upper)
		}
	}
}

func TestGoNameOfSchemaNames(t *testing.T) {
	t.Parallel()
	// Go identifier -> schema name (engine) -> Go name in the bindings.
	for _, tt := range []struct{ goIdent, binding string }{
		{"JSON", "JSON"},
		{"Junit", "Junit"},
		{"Ci", "Ci"},
		{"runID", "RunID"},
		{"sourceURL", "SourceURL"},
		{"HTTPServer", "Httpserver"},
		{"registryUsername", "RegistryUsername"},
		{"UserID", "UserID"},
		{"apiURL", "APIURL"},
		{"llmConfig", "LLMConfig"}, // LLM is an initialism Dagger adds
		{"sdk", "SDK"},
	} {
		if got := goName(lowerCamel(tt.goIdent)); got != tt.binding {
			t.Errorf("%s: binding name %q, want %q", tt.goIdent, got, tt.binding)
		}
	}
}

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
// dagger.io/dagger version .dagger/go.mod pins: each method that selects
// field "x" is named goName("x"), each option that sets argument "y" is
// named goName("y"), each type whose GraphQL name is "Z" is goName("Z"),
// and each options struct is <Type><Method>Opts (<Method>Opts on Query).
func TestGoNameMatchesSDK(t *testing.T) {
	slow(t)
	t.Parallel()
	files, err := sdkFiles(t.Context(), filepath.Join(repoRoot(t), ".dagger"), &options{})
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
