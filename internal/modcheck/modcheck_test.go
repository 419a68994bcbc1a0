package modcheck

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "TestModuleLoads, TestTestsModuleLoads: write the go.mod and go.sum the codegen wrote into the repository")

const rootModule = "github.com/slipway-ci/slipway"

// schema is the core schema a v0.21.8 engine serves, as `codegen
// introspect` wrote it against a real engine.
const schema = "testdata/introspection-v0.21.8.json"

// repoRoot is the repository root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.Contains(b, []byte("module "+rootModule+"\n")) {
		t.Fatalf("%s is not the root of %s (err: %v)", root, rootModule, err)
	}
	return root
}

// slow marks a test that runs the Dagger codegen and the go command over
// the generated module: it runs in every plain `go test` (CI relies on
// it), -short skips it.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("codegen and compile check of the Dagger module; skipped with -short")
	}
}

// snapshot records every entry under dir with its size, mode and mtime.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	s := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		s[p] = fmt.Sprintf("%v %d %v", info.Mode(), info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertUntouched fails if the check wrote, changed or removed anything in dir.
func assertUntouched(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := snapshot(t, dir)
	for p, v := range after {
		if w, ok := before[p]; !ok {
			t.Errorf("the check wrote %s inside the module", p)
		} else if w != v {
			t.Errorf("the check changed %s (%s -> %s)", p, w, v)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("the check removed %s", p)
		}
	}
}

// generated is the repository's module (the context at the root, source
// .dagger) generated once for the tests that read the generated code.
var generated struct {
	sync.Once
	dir string
	m   *Module
	err error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if generated.dir != "" {
		os.RemoveAll(generated.dir)
	}
	os.Exit(code)
}

func generatedSlipway(t *testing.T) *Module {
	t.Helper()
	slow(t)
	generated.Do(func() {
		generated.dir, generated.err = os.MkdirTemp("", "modcheck-slipway-")
		if generated.err == nil {
			generated.m, generated.err = Generate(t.Context(), repoRoot(t), schema, generated.dir)
		}
	})
	if generated.err != nil {
		t.Fatal(generated.err)
	}
	return generated.m
}

// checkLoads is the engine's load of the module in contextDir: the codegen
// accepts it, it builds and vets, and the committed go.mod and go.sum are
// what the codegen writes. With -update it writes them.
func checkLoads(t *testing.T, m *Module) {
	t.Helper()
	if err := m.Build(t.Context()); err != nil {
		t.Fatalf("the module does not build after the codegen, so it does not load on an engine:\n%v", err)
	}
	if len(m.Drift) == 0 {
		return
	}
	if !*update {
		t.Fatal(&DriftError{Module: m.Context, Drift: m.Drift})
	}
	for _, d := range m.Drift {
		if err := os.WriteFile(filepath.Join(m.Context, filepath.FromSlash(d.File)), d.Generated, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s as the codegen writes it", d.File)
	}
}

// TestModuleLoads generates the module (.dagger, with the root's go.mod,
// go.sum and pipeline/ as dagger.json includes them) with the real codegen,
// builds and vets it, and compares go.mod and go.sum with the committed ones.
func TestModuleLoads(t *testing.T) {
	slow(t)
	t.Parallel()
	root := repoRoot(t)
	before := snapshot(t, filepath.Join(root, ".dagger"))
	m := generatedSlipway(t)
	if !*update {
		assertUntouched(t, filepath.Join(root, ".dagger"), before)
	}
	checkLoads(t, m)
}

// TestTestsModuleLoads does the same for the tests module (.dagger/tests),
// with bindings for its dependency on the slipway module generated from
// .dagger's source: a check calling a function or an argument the module
// lacks, or using a result with the wrong shape, fails here.
func TestTestsModuleLoads(t *testing.T) {
	slow(t)
	t.Parallel()
	dir := filepath.Join(repoRoot(t), ".dagger", "tests")
	before := snapshot(t, dir)
	m, err := Generate(t.Context(), dir, schema, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !*update {
		assertUntouched(t, dir, before)
	}
	checkLoads(t, m)
}

// copyContextOf copies the repository's module context (dagger.json, go.mod,
// go.sum, pipeline/, .dagger without the tests module) to a temp dir and
// applies edits (path relative to the context -> content; "" deletes).
func copyContextOf(t *testing.T, edits map[string]string) string {
	t.Helper()
	root := repoRoot(t)
	cfg, err := readDaggerJSON(root)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := copyContext(root, dst, cfg); err != nil {
		t.Fatal(err)
	}
	for name, content := range edits {
		p := filepath.Join(dst, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestCheckBitesOnLoad shows the check fails where the engine failed to load
// the module: a go.mod written for a compile check against dagger.io/dagger
// (the first landing's), and a dagger.json that does not upload the root
// module the replace directive points at.
func TestCheckBitesOnLoad(t *testing.T) {
	slow(t)
	t.Parallel()
	t.Run("go.mod requiring dagger.io/dagger", func(t *testing.T) {
		t.Parallel()
		ctx := copyContextOf(t, map[string]string{
			// The SDK's dependencies pinned (sdkPins) as `// indirect`, as a
			// tidy go.mod importing only dagger.io/dagger lists them; the
			// generated code imports genqlient and querybuilder directly,
			// so the codegen still rewrites their lines.
			".dagger/go.mod": "module dagger/slipway\n\ngo 1.26.1\n\nrequire (\n\tdagger.io/dagger v0.21.8\n\tgithub.com/slipway-ci/slipway v0.0.0\n)\n\n" + sdkPins(t) + "\nreplace github.com/slipway-ci/slipway => ../\n",
		})
		err := Check(t.Context(), ctx, schema)
		var de *DriftError
		if !errors.As(err, &de) {
			t.Fatalf("Check = %v, want a *DriftError", err)
		}
		t.Logf("as reported:\n%v", err)
		for _, w := range []string{".dagger/go.mod", "+\tgithub.com/Khan/genqlient", "+\tgithub.com/dagger/querybuilder", "-\tdagger.io/dagger v0.21.8"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("the report lacks %q", w)
			}
		}
	})
	t.Run("dagger.json without include", func(t *testing.T) {
		t.Parallel()
		ctx := copyContextOf(t, map[string]string{
			"dagger.json": `{"name": "slipway", "engineVersion": "v0.21.8", "sdk": {"source": "go"}, "source": ".dagger"}`,
			"go.mod":      "",
			"go.sum":      "",
		})
		err := Check(t.Context(), ctx, schema)
		var ce *CodegenError
		if !errors.As(err, &ce) {
			t.Fatalf("Check = %v, want a *CodegenError", err)
		}
		t.Logf("as reported:\n%v", err)
		if !strings.Contains(ce.Output, "go.mod") {
			t.Errorf("the codegen's output does not name the missing go.mod")
		}
	})
}

// stubbed generates a module whose main.go is only the main object, then
// returns a function that writes a copy of the generated tree with main.go
// replaced. The generated code depends on the main object's functions only
// through invoke, which a stub without functions leaves empty, so each case
// compiles against exactly what the codegen generates for the API.
func stubbed(t *testing.T, contextDir, mainGo string) func(t *testing.T, mainGo string) *Module {
	t.Helper()
	root := t.TempDir()
	m, err := Generate(t.Context(), contextDir, schema, root)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(root, m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T, body string) *Module {
		t.Helper()
		dst := t.TempDir()
		if err := copyTree(root, dst, nil, true); err != nil {
			t.Fatal(err)
		}
		c := &Module{Context: contextDir, Dir: filepath.Join(dst, rel)}
		if err := os.WriteFile(filepath.Join(c.Dir, "main.go"), []byte(mainGo+body), 0o644); err != nil {
			t.Fatal(err)
		}
		return c
	}
}

type biteCase struct {
	name string
	body string
	want []string // in the compiler's output; none: the check passes
}

func runBites(t *testing.T, variant func(*testing.T, string) *Module, tests []biteCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := variant(t, tt.body).Build(t.Context())
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				return
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Build = %v, want a *CompileError", err)
			}
			t.Logf("as reported:\n%v", err)
			for _, w := range tt.want {
				if !strings.Contains(ce.Output, w) {
					t.Errorf("compiler output lacks %q", w)
				}
			}
		})
	}
}

const biteHeader = `package main

import (
	"context"
	"fmt"

	"dagger/slipway/internal/dagger"
)

type Slipway struct{}

var (
	_ = fmt.Sprint
	_ context.Context
	_ *dagger.Container
)
`

// TestCheckBites shows a misuse of the Dagger API fails with the
// compiler's own message, against the code the real codegen generates.
func TestCheckBites(t *testing.T) {
	slow(t)
	t.Parallel()
	// The module's own files give way to the stub: main.go only.
	files, err := filepath.Glob(filepath.Join(repoRoot(t), ".dagger", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]string{}
	for _, f := range files {
		edits[".dagger/"+filepath.Base(f)] = ""
	}
	edits[".dagger/main.go"] = biteHeader
	variant := stubbed(t, copyContextOf(t, edits), biteHeader)
	runBites(t, variant, []biteCase{{
		name: "valid module passes",
		body: `
func (m *Slipway) Cell(ctx context.Context, ref string) (int, error) {
	c := dag.Container().From(ref).
		WithEnvVariable("SLIPWAY_ATTEMPT", "2").
		WithExec([]string{"go", "test"}, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	var execErr *ExecError
	_ = execErr
	return c.ExitCode(ctx)
}
`,
	}, {
		name: "misspelled method",
		body: `
func (m *Slipway) Build() *dagger.Container {
	return dag.Container().WithExecc([]string{"make"})
}
`,
		want: []string{"main.go:", "dag.Container().WithExecc undefined", "has no field or method WithExecc"},
	}, {
		name: "wrong argument type",
		body: `
func (m *Slipway) Build() *dagger.Container {
	return dag.Container().WithExec("make all")
}
`,
		want: []string{"main.go:", `cannot use "make all"`, "[]string"},
	}, {
		name: "redeclares a name of the generated dagger.gen.go",
		body: `
func main() {}
`,
		want: []string{"main redeclared"},
	}, {
		name: "vet finding",
		body: `
func (m *Slipway) Hello() string { return fmt.Sprintf("%d", "x") }
`,
		want: []string{"fmt.Sprintf format %d has arg \"x\" of wrong type string"},
	}})
}

const testsHeader = `package main

import (
	"context"

	"dagger/slipway-tests/internal/dagger"
)

type SlipwayTests struct{}

var (
	_ context.Context
	_ *dagger.Container
)
`

// TestTestsModuleBites checks the tests module against the bindings of
// the real slipway module.
func TestTestsModuleBites(t *testing.T) {
	slow(t)
	t.Parallel()
	root := repoRoot(t)
	dir := filepath.Join(t.TempDir(), "tests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, root)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"dagger.json": `{"name": "slipway-tests", "engineVersion": "v0.21.8", "sdk": {"source": "go"},
  "dependencies": [{"name": "slipway", "source": "` + filepath.ToSlash(rel) + `"}]}`,
		"main.go": testsHeader,
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, ".dagger", "tests", f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = string(b)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runBites(t, stubbed(t, dir, testsHeader), []biteCase{{
		name: "bindings of the real module compile",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	s := dag.Slipway(dagger.SlipwayOpts{Source: dag.Directory(), Revision: "abc", RunID: "1", SourceURL: "https://x"})
	cells, err := s.Test(dagger.SlipwayTestOpts{Shard: "1/2"}).Cells(ctx)
	if err != nil {
		return err
	}
	for _, c := range cells {
		if _, err := c.ExitCode(ctx); err != nil {
			return err
		}
	}
	var p *dagger.SlipwayPromotion = s.Promote(dagger.SlipwayPromoteOpts{DryRun: true})
	if _, err := p.Junit().Contents(ctx); err != nil {
		return err
	}
	if _, err := p.JSON(ctx); err != nil {
		return err
	}
	_, err = s.Verify(ctx, "r@sha256:x", dagger.SlipwayVerifyOpts{RequirePromotion: true})
	return err
}
`,
	}, {
		name: "a function the module does not have",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	_, err := dag.Slipway().Deploy(ctx)
	return err
}
`,
		want: []string{"main.go:", "dag.Slipway().Deploy undefined", "has no field or method Deploy"},
	}, {
		name: "an argument the function does not have",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	_, err := dag.Slipway().Test(dagger.SlipwayTestOpts{Retries: 2}).Tests(ctx)
	return err
}
`,
		want: []string{"main.go:", "unknown field Retries in struct literal", "SlipwayTestOpts"},
	}, {
		name: "a lazy object used as a scalar",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	_, err := dag.Slipway().Promote(ctx)
	return err
}
`,
		want: []string{"main.go:", "cannot use ctx", "SlipwayPromoteOpts"},
	}, {
		name: "a list of objects taken as pointers",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	var cells []*dagger.SlipwayCell
	cells, err := dag.Slipway().Test().Cells(ctx)
	_ = cells
	return err
}
`,
		want: []string{"main.go:", "cannot use dag.Slipway().Test().Cells(ctx)", `SlipwayCell) as []*`},
	}, {
		name: "an object by its name in the module, not in the schema",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	var r *dagger.TestReport = dag.Slipway().Test()
	_ = r
	return nil
}
`,
		want: []string{"main.go:", "undefined: dagger.TestReport"},
	}})
}
