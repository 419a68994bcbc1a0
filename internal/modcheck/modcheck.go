// Package modcheck compile-checks a Dagger Go module where no engine runs.
//
// `dagger develop` generates a module's internal/dagger package and its
// dagger.gen.go; both need an engine and are never committed. Check copies the
// module to a temporary directory, generates stand-ins there (an
// internal/dagger package re-exporting every exported identifier of the
// dagger.io/dagger version the module's go.mod pins, and a main-package file
// with the `dag` client and the other names the real dagger.gen.go declares),
// and runs `go build` and `go vet` there. A misuse of the Dagger API then
// fails with the compiler's own message. Nothing is ever written inside the
// module.
//
// A module whose dagger.json depends on local Go modules (the tests module
// .dagger/tests on slipway) also gets, generated from their source, the
// client bindings `dagger develop` would give it (dag.Slipway(...),
// SlipwayTestReport, ...; see GenerateBindings), so a call to a function or
// an argument a dependency lacks fails too.
//
// The check cannot see the codegen's own rules (supported argument types,
// reserved names): LintSignatures covers the ones that bit us.
package modcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// Files Check generates in the temporary copy, relative to the module root.
const (
	// GeneratedPackageFile stands in for internal/dagger/dagger.gen.go.
	GeneratedPackageFile = "internal/dagger/dagger.go"
	// GeneratedMainFile stands in for the module's dagger.gen.go.
	GeneratedMainFile = "zz_modcheck.go"
)

// skipped are the paths `dagger develop` generates (relative to the module
// root): never copied, so a stale local copy cannot hide a break.
var skipped = map[string]bool{
	"dagger.gen.go":         true,
	"internal/dagger":       true,
	"internal/querybuilder": true,
	"internal/telemetry":    true,
}

// CompileError is returned when the compiler or `go vet` rejects the module.
type CompileError struct {
	// Module is the module directory that was checked.
	Module string
	// Output is the go command's output, verbatim. File names are relative
	// to the module root (./main.go:12:5: ...). As the SDK and the
	// generated package are both named dagger, the compiler spells SDK
	// types with their path: *"dagger.io/dagger".Container.
	Output string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("compile-checking Dagger module %s:\n%s", e.Module, strings.TrimRight(e.Output, "\n"))
}

// Option configures Check and Prepare.
type Option func(*options) error

type options struct {
	extra map[string][]byte
	omit  map[string]bool
	env   []string
}

// WithExtraFile adds a file to the checked copy at name, a slash-separated
// path relative to the module root: for example the client bindings a tests
// module gets for its dependencies ("internal/dagger/slipway.gen.go",
// package dagger). Default: none. An absolute or escaping path, a duplicate,
// or one of the generated files is an error.
func WithExtraFile(name string, content []byte) Option {
	return func(o *options) error {
		clean := path.Clean(name)
		if name == "" || path.IsAbs(name) || filepath.IsAbs(name) || clean != name || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("extra file %q: want a clean relative path inside the module", name)
		}
		if clean == GeneratedPackageFile || clean == GeneratedMainFile {
			return fmt.Errorf("extra file %q: Check generates that file", name)
		}
		if _, dup := o.extra[clean]; dup {
			return fmt.Errorf("extra file %q given twice", name)
		}
		o.extra[clean] = bytes.Clone(content)
		return nil
	}
}

// WithoutReexport leaves names out of the generated internal/dagger, so an
// extra file can declare them instead (a Client type that carries a
// dependency's bindings, say: an alias cannot get new methods). Default:
// every exported identifier is re-exported. A name that is not an exported
// identifier is an error.
func WithoutReexport(names ...string) Option {
	return func(o *options) error {
		for _, n := range names {
			if !token.IsExported(n) {
				return fmt.Errorf("without re-export: %q is not an exported identifier", n)
			}
			o.omit[n] = true
		}
		return nil
	}
}

// WithEnv adds KEY=VALUE entries to the environment of the go commands,
// after GOWORK=off and GOFLAGS=-mod=mod (so they can override them), e.g.
// GOMODCACHE or GOPROXY. Default: the process environment.
func WithEnv(kv ...string) Option {
	return func(o *options) error {
		for _, e := range kv {
			if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
				return fmt.Errorf("env %q: want KEY=VALUE", e)
			}
		}
		o.env = append(o.env, kv...)
		return nil
	}
}

func makeOptions(opts []Option) (*options, error) {
	o := &options{extra: map[string][]byte{}, omit: map[string]bool{}}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Check compile-checks the Dagger Go module in moduleDir (the directory with
// its go.mod, e.g. ".dagger"): it prepares a copy in a temporary directory
// (see Prepare), runs `go build ./...` and `go vet ./...` there and removes
// it. A module the compiler or vet rejects returns a *CompileError; the go
// commands download what the module cache lacks (GOFLAGS=-mod=mod).
func Check(ctx context.Context, moduleDir string, opts ...Option) error {
	o, err := makeOptions(opts)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "modcheck-")
	if err != nil {
		return fmt.Errorf("creating temporary module: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := prepare(ctx, moduleDir, tmp, o); err != nil {
		return err
	}
	// go build reports every type error (up to the compiler's limit); go
	// vet alone stops at the first. ./... always holds two packages, the
	// module and internal/dagger, so go build writes no binary.
	for _, verb := range []string{"build", "vet"} {
		out, err := goCmd(ctx, tmp, o, verb, "./...")
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("compile-checking module %s: %w", moduleDir, ctx.Err())
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return &CompileError{Module: moduleDir, Output: out}
		}
		return fmt.Errorf("compile-checking module %s: go %s: %w", moduleDir, verb, err)
	}
	return nil
}

// Prepare writes into dst (created if missing; it must be empty) a copy of
// the module in moduleDir that compiles without `dagger develop`: the
// module's files except generated ones and nested modules; relative
// replace directives made absolute; GeneratedPackageFile re-exporting the
// pinned dagger.io/dagger; GeneratedMainFile declaring `dag` and the other
// main-package names of the real dagger.gen.go; for the local Go
// dependencies in moduleDir's dagger.json, their bindings (BindingsFile)
// and ClientFile, Client, Load and Ref then being left out of the
// re-export; and any extra files. It returns what was re-exported.
func Prepare(ctx context.Context, moduleDir, dst string, opts ...Option) (*Reexport, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	return prepare(ctx, moduleDir, dst, o)
}

func prepare(ctx context.Context, moduleDir, dst string, o *options) (*Reexport, error) {
	src, err := filepath.Abs(moduleDir)
	if err != nil {
		return nil, fmt.Errorf("resolving module dir: %w", err)
	}
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		return nil, fmt.Errorf("reading module %s: %w", moduleDir, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dst, err)
	}
	if entries, err := os.ReadDir(dst); err != nil || len(entries) > 0 {
		return nil, fmt.Errorf("preparing %s: want an empty directory (err: %v)", dst, err)
	}
	if err := copyModule(src, dst); err != nil {
		return nil, err
	}
	modPath, err := absolutizeReplaces(ctx, src, dst, o)
	if err != nil {
		return nil, err
	}
	pkg, err := mainPackage(dst)
	if err != nil {
		return nil, err
	}
	files, err := sdkFiles(ctx, dst, o)
	if err != nil {
		return nil, err
	}
	deps, err := dependencyFiles(src, files)
	if err != nil {
		return nil, err
	}
	omit := o.omit
	if len(deps) > 0 {
		// Client gets the dependencies' constructors, so it (and the
		// generic Load and Ref that take it) is declared, not aliased.
		omit = maps.Clone(o.omit)
		for _, n := range []string{"Client", "Load", "Ref"} {
			omit[n] = true
		}
	}
	re, err := GenerateReexport("dagger", files, omit)
	if err != nil {
		return nil, err
	}
	write := map[string][]byte{
		GeneratedPackageFile: re.Source,
		GeneratedMainFile:    mainFile(pkg, modPath+"/internal/dagger"),
	}
	for name, content := range deps {
		write[name] = content
	}
	for name, content := range o.extra {
		if _, dup := write[name]; dup {
			return nil, fmt.Errorf("extra file %q: Check generates that file (the module's dagger.json has dependencies)", name)
		}
		write[name] = content
	}
	for name, content := range write {
		p := filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return re, nil
}

// copyModule copies the module's regular files, skipping what `dagger
// develop` generates, hidden directories and nested modules.
func copyModule(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("copying module: %w", err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return fmt.Errorf("copying module: %w", err)
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if skipped[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // another module, e.g. .dagger/tests
			}
			return os.MkdirAll(filepath.Join(dst, filepath.FromSlash(rel)), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("copying module: %w", err)
		}
		return os.WriteFile(filepath.Join(dst, filepath.FromSlash(rel)), b, 0o644)
	})
}

// absolutizeReplaces points the copy's relative replace directives (the
// module's `replace github.com/slipway-ci/slipway => ../`) at the same
// directories as the original, and returns the module path.
func absolutizeReplaces(ctx context.Context, src, dst string, o *options) (string, error) {
	out, msgs, err := goCmdSplit(ctx, dst, o, "mod", "edit", "-json")
	if err != nil {
		return "", fmt.Errorf("reading go.mod: %w\n%s", err, msgs)
	}
	var mod struct {
		Module  struct{ Path string }
		Replace []struct {
			Old, New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal([]byte(out), &mod); err != nil {
		return "", fmt.Errorf("decoding go mod edit -json: %w", err)
	}
	var args []string
	for _, r := range mod.Replace {
		local := strings.HasPrefix(r.New.Path, "./") || strings.HasPrefix(r.New.Path, "../") || r.New.Path == "." || r.New.Path == ".."
		if r.New.Version != "" || !local {
			continue
		}
		old := r.Old.Path
		if r.Old.Version != "" {
			old += "@" + r.Old.Version
		}
		args = append(args, "-replace="+old+"="+filepath.Join(src, filepath.FromSlash(r.New.Path)))
	}
	if len(args) > 0 {
		if out, err := goCmd(ctx, dst, o, append([]string{"mod", "edit"}, args...)...); err != nil {
			return "", fmt.Errorf("rewriting replace directives: %w\n%s", err, out)
		}
	}
	if mod.Module.Path == "" {
		return "", errors.New("reading go.mod: no module path")
	}
	return mod.Module.Path, nil
}

// mainPackage returns the package name of the module root's non-test files.
func mainPackage(dir string) (string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", fmt.Errorf("listing module files: %w", err)
	}
	fset := token.NewFileSet()
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.PackageClauseOnly)
		if err != nil {
			return "", &CompileError{Module: dir, Output: err.Error()}
		}
		return f.Name.Name, nil
	}
	return "", fmt.Errorf("module %s has no Go files at its root", dir)
}

// dependencyFiles returns the files the module's local Go dependencies
// (from the dagger.json in dir, if any) get in its internal/dagger: their
// bindings and ClientFile.
func dependencyFiles(dir string, sdk []string) (map[string][]byte, error) {
	deps, err := Dependencies(dir)
	if err != nil || len(deps) == 0 {
		return nil, err
	}
	kinds, err := SDKKinds(sdk)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{ClientFile: clientSource()}
	for _, d := range deps {
		src, err := GenerateBindings(d, kinds)
		if err != nil {
			return nil, fmt.Errorf("bindings for dependency %q: %w", d.Name, err)
		}
		name := BindingsFile(d)
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("two dependencies named %q", d.Name)
		}
		out[name] = src
	}
	return out, nil
}

// sdkFiles returns the non-test Go files of dagger.io/dagger at the version
// the module's go.mod selects, downloading it when the cache lacks it.
func sdkFiles(ctx context.Context, dir string, o *options) ([]string, error) {
	out, msgs, err := goCmdSplit(ctx, dir, o, "list", "-json", SDKPath)
	if err != nil {
		return nil, fmt.Errorf("locating %s (does go.mod require it?): %w\n%s", SDKPath, err, msgs)
	}
	var pkg struct {
		Dir     string
		GoFiles []string
	}
	if err := json.Unmarshal([]byte(out), &pkg); err != nil {
		return nil, fmt.Errorf("decoding go list -json %s: %w", SDKPath, err)
	}
	if pkg.Dir == "" || len(pkg.GoFiles) == 0 {
		return nil, fmt.Errorf("locating %s: go list found no files", SDKPath)
	}
	files := make([]string, len(pkg.GoFiles))
	for i, f := range pkg.GoFiles {
		files[i] = filepath.Join(pkg.Dir, f)
	}
	return files, nil
}

// mainFile declares what the real dagger.gen.go declares in the module's
// package (dagger's templates/src/_dagger.gen.go/module.go.tmpl), so a
// module that redeclares one of these names fails here as it would there.
func mainFile(pkg, daggerImport string) []byte {
	return fmt.Appendf(nil, `// Code generated by slipway's internal/modcheck. DO NOT EDIT.

package %s

import (
	"context"

	%q
)

var dag *dagger.Client

var Tracer = dagger.Tracer

var marshalCtx = context.Background()

func setMarshalContext(ctx context.Context) { marshalCtx = ctx }

type DaggerObject = dagger.DaggerObject

type ExecError = dagger.ExecError

func ptr[T any](v T) *T { return &v }

func convertSlice[I any, O any](in []I, f func(I) O) []O {
	out := make([]O, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func main() { setMarshalContext(context.Background()) }

func invoke(ctx context.Context, parentJSON []byte, parentName string, fnName string, inputArgs map[string][]byte) (_ any, err error) {
	return nil, nil
}
`, pkg, daggerImport)
}

// goCmd runs the go command in dir with GOWORK=off and GOFLAGS=-mod=mod
// (keeping the caller's other GOFLAGS), and returns its combined output.
func goCmd(ctx context.Context, dir string, o *options, args ...string) (string, error) {
	stdout, stderr, err := goCmdSplit(ctx, dir, o, args...)
	return stderr + stdout, err
}

// goCmdSplit is goCmd with stdout (data) and stderr (messages) apart.
func goCmdSplit(ctx context.Context, dir string, o *options, args ...string) (stdout, stderr string, err error) {
	var flags []string
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if !strings.HasPrefix(f, "-mod=") {
			flags = append(flags, f)
		}
	}
	flags = append(flags, "-mod=mod")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS="+strings.Join(flags, " "))
	cmd.Env = append(cmd.Env, o.env...)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	err = cmd.Run()
	return outBuf.String(), errBuf.String(), err
}
