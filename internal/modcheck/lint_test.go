package modcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoMapsInSignatures walks the Dagger modules' exported API: what the
// v0.21.8 codegen rejects compiles fine, so only this test catches it.
func TestNoMapsInSignatures(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	for _, dir := range []string{".dagger", ".dagger/tests"} {
		abs := filepath.Join(root, filepath.FromSlash(dir))
		if _, err := os.Stat(abs); err != nil {
			continue // .dagger/tests has not landed yet
		}
		findings, err := LintSignatures(abs)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range findings {
			t.Errorf("%s", f)
		}
	}
}

func TestLintSignaturesBites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // one finding each, in order; none: clean
	}{{
		name: "map argument",
		src:  `func (m *M) Build(labels map[string]string) error { return nil }`,
		want: []string{"function M.Build: map type map[string]string"},
	}, {
		name: "map through a named type",
		src: `type Labels map[string]string
func (m *M) Build(l Labels) error { return nil }`,
		want: []string{"function M.Build: map type Labels (Labels is map[string]string)"},
	}, {
		name: "map in a result slice",
		src:  `func (m *M) Stats() ([]map[string]int, error) { return nil, nil }`,
		want: []string{"function M.Stats: map type []map[string]int"},
	}, {
		name: "map variadic",
		src:  `func (m *M) Set(kv ...map[string]string) *M { return m }`,
		want: []string{"function M.Set: map type ...map[string]string"},
	}, {
		name: "map in the constructor",
		src:  `func New(env map[string]string) *M { return nil }`,
		want: []string{"constructor New: map type map[string]string"},
	}, {
		name: "map field of an object",
		src:  `type Report struct{ Counts map[string]int }`,
		want: []string{"field Report.Counts: map type map[string]int"},
	}, {
		name: "map in an interface function",
		src: `type Runner interface {
	Run(env map[string]string) error
}`,
		want: []string{"function Runner.Run: map type map[string]string"},
	}, {
		name: "reserved function name",
		src:  `func (m *M) Pipeline() string { return "" }`,
		want: []string{`function M.Pipeline: "Pipeline" collides with the core API word "pipeline"`},
	}, {
		name: "reserved field name",
		src:  `type Report struct{ ID string }`,
		want: []string{`field Report.ID: "ID" collides with the core API word "id"`},
	}, {
		name: "what the codegen never sees is fine",
		src: `type labels map[string]string
type state struct{ Seen map[string]bool }
type Obj struct {
	seen map[string]bool
	Name string
}
func (m *M) helper(x map[string]string) {}
func (s *state) Pipeline(x map[string]string) {}
func parse(x map[string]string) labels { return nil }
func (m *M) Tags(in []string) ([]string, error) { return in, nil }`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := "package main\n\ntype M struct{}\n\n" + tt.src + "\n"
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			findings, err := LintSignatures(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) != len(tt.want) {
				t.Fatalf("got %d findings %v, want %d", len(findings), findings, len(tt.want))
			}
			for i, w := range tt.want {
				if got := findings[i].String(); !strings.Contains(got, w) {
					t.Errorf("finding %d = %q, want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// TestHelpLines walks the Dagger modules' functions, arguments and fields:
// the CLI shows only the first line of each doc comment.
func TestHelpLines(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	for _, dir := range []string{".dagger", ".dagger/tests"} {
		findings, err := LintDocs(filepath.Join(root, filepath.FromSlash(dir)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range findings {
			t.Errorf("%s", f)
		}
	}
}

func TestLintDocsBites(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src string
		want      []string
	}{{
		name: "whole sentences",
		src: `// Build builds the image.
//
// More on the next lines, as long as they like to be.
func (m *M) Build(
	ctx context.Context,
	// Platform to build.
	// +optional
	platform string,
) error { return nil }

// R is a report.
type R struct {
	// Pass or fail.
	Decision string
	// +private
	JSONText string
}`,
	}, {
		name: "cut first line",
		src: `// Promote builds once, tests the candidate and the baseline (the digest
// behind the config's gate.baseline tag) in parallel.
func (m *M) Promote() error { return nil }`,
		want: []string{`function M.Promote: the CLI shows only the first line, "Promote builds once, tests the candidate and the baseline (the digest"`},
	}, {
		name: "undocumented field and argument",
		src: `// R is a report.
type R struct {
	DryRun bool
}

// Test tests.
func (m *M) Test(shard string) error { return nil }`,
		want: []string{`field R.DryRun: no doc comment: the CLI shows "-"`, `function M.Test argument shard: no doc comment`},
	}, {
		name: "long first line",
		src: `// Verify checks a ref's manifest, config and layer digests and sizes, and that its revision label is the expected commit.
func (m *M) Verify() error { return nil }`,
		want: []string{"function M.Verify: first line is 119 characters"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := "package main\n\nimport \"context\"\n\nvar _ context.Context\n\ntype M struct{}\n\n" + tt.src + "\n"
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			findings, err := LintDocs(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) != len(tt.want) {
				t.Fatalf("findings %v, want %d", findings, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(findings[i].Msg, w) {
					t.Errorf("finding %d = %q, want it to contain %q", i, findings[i].Msg, w)
				}
			}
		})
	}
}
