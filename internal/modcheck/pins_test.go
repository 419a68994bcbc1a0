package modcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// sdkPins is a go.mod require block pinning the versions the committed
// .dagger/go.mod requires (the Dagger SDK's dependencies; the slipway
// module itself, replaced by a local path, left out), for the fresh
// modules the tests write, so they do not depend on upstream releases.
//
// Why: for a module its go.mod does not require, the codegen's `go mod
// tidy` resolves the newest upstream version. From github.com/dagger/otel-go
// v1.47.x and go.opentelemetry.io/otel v1.47.0 on, that does not build
// with the v0.21.8 codegen's `replace go.opentelemetry.io/otel/log =>
// go.opentelemetry.io/otel/log v0.16.0` ("import cycle not allowed":
// otel/internal/global <-> otel/log), so a fresh module would fail for
// that and never show what its test checks. The versions are read from
// .dagger/go.mod, not copied, so a bump of the SDK there moves both.
//
// Every line is `// indirect`, as in a go.mod whose own source imports
// none of them; the codegen's tidy drops the marker of those the
// generated code imports (and drops those it does not need).
func sdkPins(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), ".dagger", "go.mod")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(p, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	local := map[string]bool{}
	for _, r := range f.Replace {
		if r.New.Version == "" { // a directory: not resolvable from a temp dir
			local[r.Old.Path] = true
		}
	}
	var s strings.Builder
	s.WriteString("require (\n")
	n := 0
	for _, r := range f.Require {
		if r.Mod.Path == rootModule || local[r.Mod.Path] {
			continue
		}
		s.WriteString("\t" + r.Mod.Path + " " + r.Mod.Version + " // indirect\n")
		n++
	}
	s.WriteString(")\n")
	if n == 0 {
		t.Fatalf("%s requires nothing to pin", p)
	}
	return s.String()
}
