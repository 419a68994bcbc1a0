// Package modcheck checks a Dagger Go module the way a Dagger v0.21.8
// engine loads it, where no engine runs.
//
// To load a Go module, the engine uploads its context (the directory of
// dagger.json: the source directory and the files dagger.json's include
// names), runs the Go SDK's codegen there (`generate-module`: it writes
// dagger.gen.go and internal/dagger, and rewrites go.mod and go.sum the way
// the generated code needs them, with `go mod tidy`), then builds it. A
// module the codegen rejects, that does not build, or whose committed
// go.mod the codegen would rewrite, does not load for users (the first
// landing of this repository did not: its go.mod required dagger.io/dagger
// instead of what the generated code imports).
//
// Check does the same offline: it copies the context as the engine uploads
// it into a temporary directory, runs the real codegen (Codegen builds it
// from the Go module proxy) on the schema a v0.21.8 engine serves
// (testdata/introspection-v0.21.8.json, written by `codegen introspect`
// against a real engine), runs `go build` and `go vet`, and compares go.mod
// and go.sum with the committed ones. Nothing is written in the module.
//
// A module whose dagger.json depends on another local module (the tests
// module .dagger/tests on slipway) gets, from a real engine, a schema with
// the dependency's types in it, which only an engine can serve: Check adds
// the client bindings those types would give (see GenerateBindings),
// generated from the dependency's Go source.
package modcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// CodegenError is returned when the codegen rejects the module, as the
// engine would when loading it ("failed to initialize module").
type CodegenError struct {
	// Module is the context directory that was checked.
	Module string
	// Output is the codegen's output, without its progress lines.
	Output string
}

func (e *CodegenError) Error() string {
	return fmt.Sprintf("generating Dagger module %s with the %s codegen (the engine fails to load it the same way):\n%s", e.Module, SDKVersion, strings.TrimRight(e.Output, "\n"))
}

// CompileError is returned when the generated module does not build or
// `go vet` rejects it.
type CompileError struct {
	// Module is the module directory that was checked.
	Module string
	// Output is the go command's output, verbatim. File names are relative
	// to the module directory (./main.go:12:5: ...).
	Output string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("compiling Dagger module %s after codegen:\n%s", e.Module, strings.TrimRight(e.Output, "\n"))
}

// Drift is a committed file the codegen rewrote.
type Drift struct {
	// File is the file's path relative to the context directory, e.g.
	// .dagger/go.mod.
	File string
	// Committed and Generated are its contents before and after.
	Committed, Generated []byte
}

// Diff lists the lines only in the committed file (-) and only in the
// generated one (+), in file order.
func (d Drift) Diff() string {
	in := func(text []byte) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(string(text), "\n") {
			m[l] = true
		}
		return m
	}
	committed, generated := in(d.Committed), in(d.Generated)
	var b strings.Builder
	for _, l := range strings.Split(string(d.Committed), "\n") {
		if !generated[l] {
			fmt.Fprintf(&b, "-%s\n", l)
		}
	}
	for _, l := range strings.Split(string(d.Generated), "\n") {
		if !committed[l] {
			fmt.Fprintf(&b, "+%s\n", l)
		}
	}
	return b.String()
}

// DriftError is returned when the module builds but the engine would
// rewrite its committed go.mod or go.sum: commit what the codegen wrote.
type DriftError struct {
	Module string
	Drift  []Drift
}

func (e *DriftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Dagger module %s: the %s codegen rewrites", e.Module, SDKVersion)
	for i, d := range e.Drift {
		if i > 0 {
			b.WriteString(" and")
		}
		b.WriteString(" " + d.File)
	}
	b.WriteString(" (commit what it writes: go test ./internal/modcheck -run Loads -update):")
	for _, d := range e.Drift {
		fmt.Fprintf(&b, "\n%s:\n%s", d.File, strings.TrimRight(d.Diff(), "\n"))
	}
	return b.String()
}

// Module is a generated copy of a Dagger module.
type Module struct {
	// Context is the context directory that was copied.
	Context string
	// Dir is the module's directory in the copy (the one with go.mod).
	Dir string
	// Drift lists the committed files the codegen rewrote.
	Drift []Drift
}

// Check generates the Dagger module whose dagger.json is in contextDir with
// the real codegen on the engine schema in schemaPath, builds and vets it,
// and removes the copy. The error is a *CodegenError, a *CompileError, a
// *DriftError, or an infrastructure error (the codegen could not be built,
// a file could not be copied).
func Check(ctx context.Context, contextDir, schemaPath string) error {
	tmp, err := os.MkdirTemp("", "modcheck-")
	if err != nil {
		return fmt.Errorf("creating temporary module: %w", err)
	}
	defer os.RemoveAll(tmp)
	m, err := Generate(ctx, contextDir, schemaPath, tmp)
	if err != nil {
		return err
	}
	if err := m.Build(ctx); err != nil {
		return err
	}
	if len(m.Drift) > 0 {
		return &DriftError{Module: contextDir, Drift: m.Drift}
	}
	return nil
}

// sourceDir is the module's source directory, relative to its context.
func (c *daggerJSON) sourceDir() string {
	if c.Source == "" {
		return "."
	}
	return path.Clean(c.Source)
}

// Generate copies the context in contextDir into dst (created if missing;
// it must be empty) as the engine uploads it, runs the codegen there with
// the schema in schemaPath, adds the bindings of local dependencies, and
// reports which committed files the codegen rewrote. dst is left for the
// caller.
func Generate(ctx context.Context, contextDir, schemaPath, dst string) (*Module, error) {
	cfg, err := readDaggerJSON(contextDir)
	if err != nil {
		return nil, fmt.Errorf("reading Dagger module %s: %w", contextDir, err)
	}
	if cfg.Name == "" || cfg.sdkSource() != "go" {
		return nil, fmt.Errorf("Dagger module %s: want a named Go module (name %q, sdk %q)", contextDir, cfg.Name, cfg.sdkSource())
	}
	schema, err := filepath.Abs(schemaPath)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dst, err)
	}
	if entries, err := os.ReadDir(dst); err != nil || len(entries) > 0 {
		return nil, fmt.Errorf("generating into %s: want an empty directory (err: %v)", dst, err)
	}
	if err := copyContext(contextDir, dst, cfg); err != nil {
		return nil, err
	}
	src := cfg.sourceDir()
	m := &Module{Context: contextDir, Dir: filepath.Join(dst, filepath.FromSlash(src))}
	bin, err := Codegen(ctx)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "generate-module",
		"--introspection-json-path", schema, "--module-source-path", ".",
		"--module-name", cfg.Name, "--lib-version", SDKVersion, "--output", ".")
	cmd.Dir = m.Dir
	// As in the engine: no workspace (the codegen edits go.work when `go
	// env GOWORK` is set, even to "off") and no GOFLAGS.
	cmd.Env = append(environ("GOWORK", "GOFLAGS"), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("generating Dagger module %s: %w", contextDir, ctx.Err())
		}
		return nil, &CodegenError{Module: contextDir, Output: codegenMessages(out)}
	}
	if err := addBindings(contextDir, m.Dir); err != nil {
		return nil, err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		rel := path.Join(src, f)
		committed, err := os.ReadFile(filepath.Join(contextDir, filepath.FromSlash(rel)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		generated, err := os.ReadFile(filepath.Join(m.Dir, f))
		if err != nil {
			return nil, fmt.Errorf("reading the generated %s: %w", rel, err)
		}
		if !bytes.Equal(committed, generated) {
			m.Drift = append(m.Drift, Drift{File: rel, Committed: committed, Generated: generated})
		}
	}
	return m, nil
}

// codegenMessages drops the codegen's progress lines (downloads, the go
// list invocations it times) and keeps what explains a failure.
func codegenMessages(out []byte) string {
	var b strings.Builder
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "go: downloading ") || strings.HasPrefix(l, "starting GOROOT=") || strings.Contains(l, " for GOROOT=") || strings.TrimSpace(l) == "" {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// environ is the process environment without the named variables.
func environ(drop ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, k) {
			env = append(env, kv)
		}
	}
	return env
}

// Build runs `go build ./...` and `go vet ./...` in the generated module;
// a rejection is a *CompileError.
func (m *Module) Build(ctx context.Context) error {
	// go build reports every type error (up to the compiler's limit); go
	// vet alone stops at the first.
	for _, verb := range []string{"build", "vet"} {
		args := []string{verb, "./..."}
		if verb == "build" {
			args = []string{verb, "-o", os.DevNull, "./..."}
		}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = m.Dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		out, err := cmd.CombinedOutput()
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("compiling Dagger module %s: %w", m.Context, ctx.Err())
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return &CompileError{Module: m.Context, Output: string(out)}
		}
		return fmt.Errorf("compiling Dagger module %s: go %s: %w", m.Context, verb, err)
	}
	return nil
}

// skipped are the paths the codegen generates (relative to the source
// directory): never copied, so a stale local copy cannot hide a break.
var skipped = map[string]bool{
	"dagger.gen.go":      true,
	"internal/dagger":    true,
	"internal/telemetry": true,
}

// copyContext copies what the engine uploads of a module: dagger.json, the
// files its include patterns name, and the source directory (without
// generated files and nested modules).
func copyContext(contextDir, dst string, cfg *daggerJSON) error {
	if err := copyFile(filepath.Join(contextDir, "dagger.json"), filepath.Join(dst, "dagger.json")); err != nil {
		return err
	}
	for _, pat := range cfg.Include {
		if strings.HasPrefix(pat, "!") {
			continue // an exclusion of something not copied
		}
		clean := path.Clean(pat)
		if dir, ok := strings.CutSuffix(clean, "/**"); ok {
			if err := copyTree(filepath.Join(contextDir, filepath.FromSlash(dir)), filepath.Join(dst, filepath.FromSlash(dir)), nil, false); err != nil {
				return err
			}
			continue
		}
		if strings.ContainsAny(clean, "*?[") {
			return fmt.Errorf("dagger.json include %q: modcheck copies files and dir/** only", pat)
		}
		if err := copyFile(filepath.Join(contextDir, filepath.FromSlash(clean)), filepath.Join(dst, filepath.FromSlash(clean))); err != nil {
			return err
		}
	}
	src := cfg.sourceDir()
	return copyTree(filepath.Join(contextDir, filepath.FromSlash(src)), filepath.Join(dst, filepath.FromSlash(src)), skipped, false)
}

// copyTree copies the regular files under src to dst, leaving out the
// skip paths (relative to src) and, unless withNested, nested modules (a
// directory with its own dagger.json or go.mod, e.g. .dagger/tests).
func copyTree(src, dst string, skip map[string]bool, withNested bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("copying module: %w", err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return fmt.Errorf("copying module: %w", err)
		}
		rel = filepath.ToSlash(rel)
		if skip[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if rel != "." {
				for _, marker := range []string{"dagger.json", "go.mod"} {
					if _, err := os.Stat(filepath.Join(p, marker)); err == nil && !withNested {
						return filepath.SkipDir
					}
				}
			}
			return os.MkdirAll(filepath.Join(dst, filepath.FromSlash(rel)), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, filepath.Join(dst, filepath.FromSlash(rel)))
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copying module: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copying module: %w", err)
	}
	return os.WriteFile(dst, b, 0o644)
}

// addBindings writes, into the generated internal/dagger of the module in
// dir, the bindings of the local Go dependencies named in contextDir's
// dagger.json.
func addBindings(contextDir, dir string) error {
	deps, err := Dependencies(contextDir)
	if err != nil || len(deps) == 0 {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, "internal", "dagger", "*.go"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("bindings: the codegen wrote no internal/dagger (err: %v)", err)
	}
	kinds, err := SDKKinds(files)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, d := range deps {
		src, err := GenerateBindings(d, kinds)
		if err != nil {
			return fmt.Errorf("bindings for dependency %q: %w", d.Name, err)
		}
		name := BindingsFile(d)
		if seen[name] {
			return fmt.Errorf("two dependencies named %q", d.Name)
		}
		seen[name] = true
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), src, 0o644); err != nil {
			return err
		}
	}
	return nil
}
