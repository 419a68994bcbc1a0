package modcheck

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shopModule is a dependency that exercises every binding rule.
const shopModule = `package main

import (
	"context"

	"dagger/shop/internal/dagger"
)

// Shop sells things.
type Shop struct {
	// +private
	Secret string
	// The owner's name.
	Owner  string
	Items  []*Item
	Labels []string ` + "`json:\"tags\"`" + `
	Hidden string   ` + "`json:\"-\"`" + `
	count  int
}

// Item is one thing for sale.
type Item struct {
	SKU   string
	Price int // in cents
}

// New opens a shop.
func New(
	// Where the shop is.
	city string,
	// +optional
	open bool,
	// Currency of the prices.
	// +default="EUR"
	currency string,
	src *dagger.Directory, // +defaultPath="/"
) *Shop {
	return &Shop{}
}

// Restock adds count of item.
func (s *Shop) Restock(ctx context.Context, item *Item, count int) (*Shop, error) { return s, nil }

// Find looks an item up.
func (s *Shop) Find(ctx context.Context, sku string,
	// +optional
	platform dagger.Platform,
) (*Item, error) {
	return nil, nil
}

func (s *Shop) Count(ctx context.Context) (int, error)          { return 0, nil }
func (s *Shop) Close(ctx context.Context) error                  { return nil }
func (s *Shop) Ping()                                            {}
func (s *Shop) Tarball(files ...*dagger.File) *dagger.File       { return nil }
func (s *Shop) All(ctx context.Context) ([]*Item, error)         { return nil, nil }
func (s *Shop) HTTPServer() *dagger.Service                      { return nil }
func (s *Shop) private()                                         {}
func (i Item) Describe() string                                  { return "" }
func (i *Item) WithPrice(price int) *Item                        { return i }
`

var testSDKKinds = map[string]string{
	"Directory": "object", "File": "object", "Service": "object", "Container": "object",
	"Platform": "scalar", "Node": "interface",
}

func writeModule(t *testing.T, dir, name, mainGo string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `{"name": "` + name + `", "engineVersion": "v0.21.8", "sdk": {"source": "go"}}`
	if err := os.WriteFile(filepath.Join(dir, "dagger.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainGo), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateBindings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeModule(t, dir, "shop", shopModule)
	src, err := GenerateBindings(Dependency{Name: "shop", ModuleName: "shop", Dir: dir}, testSDKKinds)
	if err != nil {
		t.Fatal(err)
	}
	got := string(src)
	for _, want := range []string{
		// The constructor: required args positional, the others in opts.
		"func (c *Client) Shop(city string, opts ...ShopOpts) *Shop {",
		"type ShopOpts struct {\n\tOpen bool\n\t// Currency of the prices.\n\tCurrency string\n\tSrc      *Directory\n}",
		// Objects, namespaced; their IDs.
		"type Shop struct{ query *querybuilder.Selection }",
		"type ShopItem struct{ query *querybuilder.Selection }",
		"type ShopItemID string",
		"func (c *Client) LoadShopItemFromID(id ShopItemID) *ShopItem {",
		`func (r *ShopItem) XXX_GraphQLType() string { return "ShopItem" }`,
		"func (r *ShopItem) ID(ctx context.Context) (ID, error) {",
		"func (r *ShopItem) WithGraphQLQuery(q *querybuilder.Selection) *ShopItem {",
		"func (r *ShopItem) AsNode() Node {",
		// Objects lazy, object args pointers.
		"func (r *Shop) Restock(item *ShopItem, count int) *Shop {",
		"type ShopFindOpts struct {\n\tPlatform Platform\n}",
		"func (r *Shop) Find(sku string, opts ...ShopFindOpts) *ShopItem {",
		"func (r *Shop) Tarball(files []*File) *File {",
		"func (r *Shop) Httpserver() *Service {",
		// Scalars, lists and void take ctx; lists of objects are values.
		"func (r *Shop) Count(ctx context.Context) (int, error) {",
		"func (r *Shop) Close(ctx context.Context) error {",
		"func (r *Shop) Ping(ctx context.Context) error {",
		"func (r *Shop) All(ctx context.Context) ([]ShopItem, error) {",
		"func (r *ShopItem) Describe(ctx context.Context) (string, error) {",
		// Fields: getters, named by their json tag.
		"// The owner's name.\nfunc (r *Shop) Owner(ctx context.Context) (string, error) {",
		"func (r *Shop) Items(ctx context.Context) ([]ShopItem, error) {",
		"func (r *Shop) Tags(ctx context.Context) ([]string, error) {",
		"func (r *ShopItem) Sku(ctx context.Context) (string, error) {",
		"// in cents\nfunc (r *ShopItem) Price(ctx context.Context) (int, error) {",
		// With, for objects with a function returning themselves.
		"type WithShopFunc func(r *Shop) *Shop",
		"func (r *ShopItem) With(f WithShopItemFunc) *ShopItem {",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("bindings lack:\n%s", want)
		}
	}
	for _, absent := range []string{"Secret", "Hidden", "Labels", "private", "Count(ctx context.Context) (int, error) {\n\tpanic(notGenerated)\n}\n\nfunc (r *Shop) Count"} {
		if strings.Contains(got, absent) {
			t.Errorf("bindings hold %q", absent)
		}
	}
	if t.Failed() {
		t.Logf("generated:\n%s", got)
	}
}

// TestGenerateBindingsRefuses: what the generator cannot map with certainty
// is an error naming the declaration, never a guess.
func TestGenerateBindingsRefuses(t *testing.T) {
	t.Parallel()
	const header = "package main\n\nimport (\n\t\"context\"\n\n\t\"dagger/shop/internal/dagger\"\n)\n\nvar _ context.Context\nvar _ *dagger.File\n\ntype Shop struct{}\n\n"
	for _, tt := range []struct{ name, src, want string }{
		{"map argument", `func (s *Shop) Tag(labels map[string]string) *Shop { return s }`, "function Shop.Tag, argument labels: type map[string]string: a map"},
		{"float result", `func (s *Shop) Rate() float64 { return 0 }`, "function Shop.Rate, result: type float64"},
		{"enum of the module", "type Size string\n\nfunc (s *Shop) Pick(size Size) *Shop { return s }", "type Size: an enum, interface or named type of the module"},
		{"interface of the module", "type Named interface{ Name() string }\n\nfunc (s *Shop) Greet(n Named) *Shop { return s }", "type Named: an enum, interface"},
		{"core interface", `func (s *Shop) Load(n dagger.Node) *Shop { return s }`, "type dagger.Node: not a core scalar or enum"},
		{"core object by value", `func (s *Shop) Run(c dagger.Container) *Shop { return s }`, "a core object by value"},
		{"inline struct argument", `func (s *Shop) Open(opts struct{ Hour int }) *Shop { return s }`, "inline struct parameter"},
		{"other package", `func (s *Shop) At(ctx context.Context, d context.Context) *Shop { return s }`, "a type from another package"},
		{"embedded field", "type Base struct{ Name string }\n\ntype Branch struct{ Base }\n\nfunc (s *Shop) Branch() *Branch { return nil }", "object Branch: embedded field"},
		{"three results", `func (s *Shop) Two() (string, string, error) { return "", "", nil }`, "results must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeModule(t, dir, "shop", header+tt.src+"\n")
			_, err := GenerateBindings(Dependency{Name: "shop", ModuleName: "shop", Dir: dir}, testSDKKinds)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("GenerateBindings = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("no main object", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeModule(t, dir, "shop", "package main\n\ntype Store struct{}\n")
		_, err := GenerateBindings(Dependency{Name: "shop", ModuleName: "shop", Dir: dir}, testSDKKinds)
		if err == nil || !strings.Contains(err.Error(), "no main object: a struct named Shop") {
			t.Fatalf("GenerateBindings = %v", err)
		}
	})
}

func TestDependencies(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	// A module whose dagger.json sits above its Go source, like slipway's.
	writeModule(t, filepath.Join(root, "shop", ".dagger"), "unused", "package main\n")
	if err := os.WriteFile(filepath.Join(root, "shop", "dagger.json"),
		[]byte(`{"name": "shop", "sdk": "go", "source": ".dagger"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(dir, deps string) string {
		d := filepath.Join(root, dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := `{"name": "tests", "sdk": {"source": "go"}, "dependencies": ` + deps + `}`
		if err := os.WriteFile(filepath.Join(d, "dagger.json"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}

	deps, err := Dependencies(write("tests", `[{"name": "store", "source": "../shop"}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := Dependency{Name: "store", ModuleName: "shop", Dir: filepath.Join(root, "shop", ".dagger")}
	if len(deps) != 1 || deps[0] != want {
		t.Fatalf("Dependencies = %+v, want [%+v]", deps, want)
	}
	if got := BindingsFile(deps[0]); got != "internal/dagger/store.gen.go" {
		t.Errorf("BindingsFile = %q", got)
	}

	if deps, err := Dependencies(t.TempDir()); err != nil || deps != nil {
		t.Errorf("no dagger.json: Dependencies = %v, %v; want none", deps, err)
	}
	for _, tt := range []struct{ name, deps, want string }{
		{"remote", `[{"name": "x", "source": "github.com/acme/x@v1"}]`, "only local dependencies"},
		{"missing", `[{"name": "x", "source": "../nowhere"}]`, "dependency \"x\""},
	} {
		_, err := Dependencies(write("bad-"+tt.name, tt.deps))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Dependencies = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	py := filepath.Join(root, "py")
	if err := os.MkdirAll(py, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(py, "dagger.json"), []byte(`{"name": "py", "sdk": {"source": "python"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Dependencies(write("bad-sdk", `[{"name": "py", "source": "../py"}]`))
	if err == nil || !strings.Contains(err.Error(), `its SDK is "python"`) {
		t.Errorf("python dependency: Dependencies = %v", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		t.Errorf("a bad dependency read as no dagger.json: %v", err)
	}
}

// TestBindingsCompile compiles a depender of the shop module against its
// generated bindings: every shape TestGenerateBindings pins is usable as
// the real codegen's would be (objects are Loadable, With chains, options
// are variadic, the SDK's client is still there), and a misuse fails.
func TestBindingsCompile(t *testing.T) {
	slow(t)
	t.Parallel()
	const header = `package main

import (
	"context"

	"dagger/depender/internal/dagger"
)

type Depender struct{}
`
	for _, tt := range []struct {
		name, body string
		want       []string
	}{{
		name: "valid use",
		body: `
func (m *Depender) Use(ctx context.Context) (int, error) {
	shop := dag.Shop("Lyon", dagger.ShopOpts{Open: true, Currency: "EUR", Src: dag.Directory()})
	shop = shop.With(func(s *dagger.Shop) *dagger.Shop { return s.Restock(s.Find("x"), 2) })
	item := shop.Find("sku-1", dagger.ShopFindOpts{Platform: dagger.Platform("linux/amd64")})
	if _, err := item.Sku(ctx); err != nil {
		return 0, err
	}
	id, err := item.ID(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := dagger.Load[*dagger.ShopItem](ctx, dag, id); err != nil {
		return 0, err
	}
	var _ dagger.Node = item.AsNode()
	items, err := shop.All(ctx)
	if err != nil {
		return 0, err
	}
	_ = shop.Tarball([]*dagger.File{dag.Directory().File("a")})
	_ = dag.Container().From("busybox")
	if err := shop.Close(ctx); err != nil {
		return 0, err
	}
	return len(items), nil
}
`,
	}, {
		name: "misuse",
		body: `
func (m *Depender) Use(ctx context.Context) error {
	_ = dag.Shop("Lyon", dagger.ShopOpts{Secret: "x"})
	_ = dag.Shop("Lyon").Count()
	var _ *dagger.Item
	return dag.Shop("Lyon").Ping()
}
`,
		want: []string{
			"unknown field Secret in struct literal",
			"not enough arguments in call to dag.Shop(\"Lyon\").Count",
			"undefined: dagger.Item",
			"not enough arguments in call to dag.Shop(\"Lyon\").Ping",
		},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeModule(t, filepath.Join(root, "shop"), "shop", shopModule)
			dir := filepath.Join(root, "depender")
			writeModule(t, dir, "depender", header+tt.body)
			cfg := `{"name": "depender", "sdk": {"source": "go"}, "dependencies": [{"name": "shop", "source": "../shop"}]}`
			if err := os.WriteFile(filepath.Join(dir, "dagger.json"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module dagger/depender\n\ngo 1.26\n\n"+sdkPins(t)), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Generate(t.Context(), dir, schema, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			err = m.Build(t.Context())
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Check = %v, want a *CompileError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(ce.Output, w) {
					t.Errorf("compiler output lacks %q:\n%s", w, ce.Output)
				}
			}
		})
	}
}
