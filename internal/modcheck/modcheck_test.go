package modcheck

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "TestGoSumComplete: add the missing lines to .dagger/go.sum")

const rootModule = "github.com/slipway-ci/slipway"

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

// slow marks a test that runs the go command over the Dagger SDK: it runs
// in every plain `go test` (CI relies on it), -short skips it.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("compile check of the Dagger module (go list/go vet over dagger.io/dagger); skipped with -short")
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
	for _, gen := range []string{"internal", "dagger.gen.go", GeneratedMainFile} {
		p := filepath.Join(dir, gen)
		if _, existed := before[p]; existed {
			continue // a local `dagger develop` made it; not ours
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("generated %s appeared inside the repository", p)
		}
	}
}

func TestModuleCompiles(t *testing.T) {
	slow(t)
	t.Parallel()
	dir := filepath.Join(repoRoot(t), ".dagger")
	before := snapshot(t, dir)
	if err := Check(t.Context(), dir); err != nil {
		t.Fatalf("the Dagger module does not compile against dagger.io/dagger:\n%v", err)
	}
	assertUntouched(t, dir, before)
}

// TestReexport pins what the generated internal/dagger holds for the SDK
// version .dagger/go.mod pins (v0.21.8: 392 exported identifiers).
func TestReexport(t *testing.T) {
	slow(t)
	t.Parallel()
	dir := filepath.Join(repoRoot(t), ".dagger")
	before := snapshot(t, dir)
	dst := t.TempDir()
	re, err := Prepare(t.Context(), dir, dst)
	if err != nil {
		t.Fatal(err)
	}
	assertUntouched(t, dir, before)
	t.Logf("re-exported %d identifiers of %s", len(re.Names), SDKPath)
	if len(re.Names) < 380 {
		t.Errorf("re-exported %d identifiers, want at least 380 (v0.21.8 has 392)", len(re.Names))
	}
	if len(re.Skipped) > 0 {
		t.Errorf("skipped identifiers: %v", re.Skipped)
	}
	for _, name := range []string{
		"Client", "Container", "Directory", "File", "Secret", "Service", "CacheVolume",
		"ContainerWithExecOpts", "ContainerPublishOpts", "ReturnTypeAny", "ExecError",
		"DaggerObject", "Connect", "Tracer", "Load", "Ref", "Loadable",
	} {
		if _, found := slices.BinarySearch(re.Names, name); !found {
			t.Errorf("%s not re-exported", name)
		}
	}
	for _, want := range []string{
		"type Loadable[T any] = dagger.Loadable[T]",
		"func Ref[T Loadable[T]](p0 *Client, p1 ID) T {",
		"const ReturnTypeAny = dagger.ReturnTypeAny",
		"var Connect = dagger.Connect",
	} {
		if !bytes.Contains(re.Source, []byte(want)) {
			t.Errorf("generated package lacks %q", want)
		}
	}
	for _, f := range []string{GeneratedPackageFile, GeneratedMainFile} {
		if _, err := os.Stat(filepath.Join(dst, filepath.FromSlash(f))); err != nil {
			t.Errorf("Prepare did not write %s: %v", f, err)
		}
	}
}

// biteModule writes a copy of the repository's module shape into a temp dir:
// the root go.mod and go.sum, and .dagger with its go.mod, go.sum and the
// given main.go. It returns the .dagger directory.
func biteModule(t *testing.T, mainGo string) string {
	t.Helper()
	root := repoRoot(t)
	tmp := t.TempDir()
	mod := filepath.Join(tmp, ".dagger")
	if err := os.Mkdir(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "go.sum", ".dagger/go.mod", ".dagger/go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, filepath.FromSlash(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(mod, "main.go"), []byte(mainGo), 0o644); err != nil {
		t.Fatal(err)
	}
	return mod
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

func TestCheckBites(t *testing.T) {
	slow(t)
	t.Parallel()
	tests := []struct {
		name string
		body string
		opts []Option
		want []string // in the compiler's output; none: the check passes
	}{{
		name: "valid module passes",
		body: `
type Named interface {
	DaggerObject
	Name(ctx context.Context) (string, error)
}

func (m *Slipway) Cell(ctx context.Context, ref string) (int, error) {
	c := dag.Container().From(ref).
		WithEnvVariable("SLIPWAY_ATTEMPT", "2").
		WithExec([]string{"go", "test"}, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	var execErr *ExecError
	_ = execErr
	return c.ExitCode(ctx)
}

func (m *Slipway) Reload(ctx context.Context, id dagger.ID) (*dagger.Container, error) {
	return dagger.Load[*dagger.Container](ctx, dag, id)
}
`,
	}, {
		name: "misspelled method",
		body: `
func (m *Slipway) Build() *dagger.Container {
	return dag.Container().WithExecc([]string{"make"})
}
`,
		want: []string{"./main.go:", "dag.Container().WithExecc undefined", "has no field or method WithExecc"},
	}, {
		name: "wrong argument type",
		body: `
func (m *Slipway) Build() *dagger.Container {
	return dag.Container().WithExec("make all")
}
`,
		want: []string{"./main.go:", `cannot use "make all"`, "[]string"},
	}, {
		name: "options struct of another function",
		body: `
func (m *Slipway) Build() *dagger.Container {
	return dag.Container().WithExec([]string{"make"}, dagger.ContainerPublishOpts{})
}
`,
		want: []string{"cannot use dagger.ContainerPublishOpts{}", "ContainerWithExecOpts value in argument to dag.Container().WithExec"},
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
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := biteModule(t, biteHeader+tt.body)
			before := snapshot(t, dir)
			err := Check(t.Context(), dir, tt.opts...)
			assertUntouched(t, dir, before)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Check = %v, want a *CompileError", err)
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

// TestExtraFiles shows the extension point a tests module needs: bindings
// for a dependency (dag.Slipway()) are methods on Client, so the generated
// alias for Client (and the generic funcs taking one) give way to an extra
// file.
func TestExtraFiles(t *testing.T) {
	slow(t)
	t.Parallel()
	bindings := []byte(`package dagger

import (
	"context"

	sdk "dagger.io/dagger"
)

type Client struct{ *sdk.Client }

type Slipway struct{}

func (c *Client) Slipway() *Slipway { return &Slipway{} }

func (s *Slipway) Tags(ctx context.Context) ([]string, error) { return nil, nil }
`)
	opts := []Option{
		WithoutReexport("Client", "Load", "Ref"),
		WithExtraFile("internal/dagger/slipway.gen.go", bindings),
	}
	tests := []struct {
		name string
		body string
		want string
	}{
		{"bindings compile", `func (m *Slipway) CheckTags(ctx context.Context) error {
	_ = dag.Container().From("alpine")
	_, err := dag.Slipway().Tags(ctx)
	return err
}`, ""},
		{"bindings bite", `func (m *Slipway) CheckTags(ctx context.Context) error {
	_, err := dag.Slipway().Tagz(ctx)
	return err
}`, "dag.Slipway().Tagz undefined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check(t.Context(), biteModule(t, biteHeader+tt.body), opts...)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Option
	}{
		{"escaping extra file", WithExtraFile("../x.go", nil)},
		{"absolute extra file", WithExtraFile("/tmp/x.go", nil)},
		{"unclean extra file", WithExtraFile("internal//x.go", nil)},
		{"extra file over a generated one", WithExtraFile(GeneratedPackageFile, nil)},
		{"unexported omit", WithoutReexport("client")},
		{"env without =", WithEnv("GOFLAGS")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The option fails before anything touches the module dir.
			if err := Check(t.Context(), "/nonexistent", tt.opt); err == nil || strings.Contains(err.Error(), "nonexistent") {
				t.Fatalf("Check = %v, want the option's error", err)
			}
		})
	}
	if _, err := makeOptions([]Option{WithExtraFile("a.go", nil), WithExtraFile("a.go", nil)}); err == nil {
		t.Error("a duplicate extra file was accepted")
	}
}

// TestGoSumComplete keeps the go.sum of each Dagger module (.dagger and
// .dagger/tests) complete for the check, so a fresh CI machine verifies
// every download against it. When a module starts importing more (a
// pipeline package, say), run:
//
//	go test ./internal/modcheck -run TestGoSumComplete -update
func TestGoSumComplete(t *testing.T) {
	slow(t)
	t.Parallel()
	for _, mod := range []string{".dagger", ".dagger/tests"} {
		t.Run(mod, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(repoRoot(t), filepath.FromSlash(mod))
			dst := t.TempDir()
			if _, err := Prepare(t.Context(), dir, dst); err != nil {
				t.Fatal(err)
			}
			if out, err := goCmd(t.Context(), dst, &options{}, "vet", "./..."); err != nil {
				t.Fatalf("go vet: %v\n%s", err, out)
			}
			have := sumLines(t, filepath.Join(dir, "go.sum"))
			need := sumLines(t, filepath.Join(dst, "go.sum"))
			var missing []string
			for l := range need {
				if !have[l] {
					missing = append(missing, l)
				}
			}
			if len(missing) == 0 {
				return
			}
			sort.Strings(missing)
			if !*update {
				t.Fatalf("%s/go.sum lacks %d lines the check needs:\n%s\nrun: go test ./internal/modcheck -run TestGoSumComplete -update",
					mod, len(missing), strings.Join(missing, "\n"))
			}
			for _, l := range missing {
				have[l] = true
			}
			all := make([]string, 0, len(have))
			for l := range have {
				all = append(all, l)
			}
			sort.Strings(all)
			if err := os.WriteFile(filepath.Join(dir, "go.sum"), []byte(strings.Join(all, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("added %d lines to %s/go.sum", len(missing), mod)
		})
	}
}

func sumLines(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" {
			lines[l] = true
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestTestsModuleCompiles checks the tests module (.dagger/tests) the same
// way, with bindings for its dependency on the slipway module generated
// from .dagger's source: a check calling a function or an argument the
// module lacks, or using a result with the wrong shape, fails here.
func TestTestsModuleCompiles(t *testing.T) {
	slow(t)
	t.Parallel()
	dir := filepath.Join(repoRoot(t), ".dagger", "tests")
	before := snapshot(t, dir)
	if err := Check(t.Context(), dir); err != nil {
		t.Fatalf("the tests module does not compile against the slipway module's bindings:\n%v", err)
	}
	assertUntouched(t, dir, before)
}

// biteTestsModule writes a tests module depending on the repository's
// slipway module (by a relative path from a temp dir) with the given
// main.go, and returns its directory.
func biteTestsModule(t *testing.T, mainGo string) string {
	t.Helper()
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
		"main.go": mainGo,
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, ".dagger", "tests", f))
		if err != nil && f == "go.mod" {
			t.Fatal(err)
		}
		files[f] = string(b)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const testsHeader = `package main

import (
	"context"

	"dagger/slipway-tests/internal/dagger"
)

type SlipwayTests struct{}

var _ *dagger.Container
`

func TestTestsModuleBites(t *testing.T) {
	slow(t)
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []string // in the compiler's output; none: the check passes
	}{{
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
	id, err := p.ID(ctx)
	if err != nil {
		return err
	}
	_ = dagger.Ref[*dagger.SlipwayPromotion](dag, id)
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
		want: []string{"./main.go:", "dag.Slipway().Deploy undefined", "has no field or method Deploy"},
	}, {
		name: "an argument the function does not have",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	_, err := dag.Slipway().Test(dagger.SlipwayTestOpts{Retries: 2}).Tests(ctx)
	return err
}
`,
		want: []string{"./main.go:", "unknown field Retries in struct literal", "SlipwayTestOpts"},
	}, {
		name: "a lazy object used as a scalar",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	_, err := dag.Slipway().Promote(ctx)
	return err
}
`,
		want: []string{"./main.go:", "cannot use ctx", "SlipwayPromoteOpts"},
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
		want: []string{"./main.go:", "cannot use dag.Slipway().Test().Cells(ctx)", `internal/dagger".SlipwayCell) as []*`},
	}, {
		name: "an object by its name in the module, not in the schema",
		body: `
func (m *SlipwayTests) Check(ctx context.Context) error {
	var r *dagger.TestReport = dag.Slipway().Test()
	_ = r
	return nil
}
`,
		want: []string{"./main.go:", "undefined: dagger.TestReport"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := biteTestsModule(t, testsHeader+tt.body)
			err := Check(t.Context(), dir)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Check = %v, want a *CompileError", err)
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
