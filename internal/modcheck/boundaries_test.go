package modcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// listedPackage is the part of `go list -json` output the boundary rules read.
type listedPackage struct {
	ImportPath string
	Imports    []string
	DepOnly    bool
}

// boundaryRule forbids packages under From to depend, directly or
// transitively, on a package Forbid matches.
type boundaryRule struct {
	From   string // import path prefix of the packages the rule constrains
	Forbid func(importPath string) bool
	Why    string
}

func under(prefix string) func(string) bool {
	return func(p string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
}

func anyOf(preds ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, pred := range preds {
			if pred(p) {
				return true
			}
		}
		return false
	}
}

// The Dagger API and the module (module path dagger/slipway) stay in .dagger.
var daggerAPI = anyOf(under("dagger.io/dagger"), under("dagger/slipway"))

var boundaryRules = []boundaryRule{
	{rootModule + "/pipeline", daggerAPI, "only .dagger imports the Dagger API (DESIGN §1)"},
	{rootModule + "/cmd", daggerAPI, "only .dagger imports the Dagger API (DESIGN §1)"},
	{rootModule + "/pipeline", under(rootModule + "/cmd"), "pipeline never imports cmd (DESIGN §1)"},
	{rootModule + "/pipeline/config", anyOf(
		func(p string) bool {
			return under(rootModule+"/pipeline")(p) && !under(rootModule+"/pipeline/config")(p) && !under(rootModule+"/pipeline/gitctx")(p)
		},
		func(p string) bool {
			return under("github.com/google/go-containerregistry")(p) && !under("github.com/google/go-containerregistry/pkg/name")(p)
		},
	), "config is a leaf: it reads slipway.yaml and knows the tag grammar (gitctx) and ggcr's reference syntax, never the registry"},
}

// violations returns, for each root package (not DepOnly) a rule constrains
// and each forbidden package it reaches, the shortest import chain.
func violations(pkgs []listedPackage, rules []boundaryRule) []string {
	imports := map[string][]string{}
	for _, p := range pkgs {
		imports[p.ImportPath] = p.Imports
	}
	var out []string
	for _, root := range pkgs {
		for _, r := range rules {
			if root.DepOnly || !under(r.From)(root.ImportPath) {
				continue
			}
			parent := map[string]string{root.ImportPath: ""}
			queue := []string{root.ImportPath}
			for len(queue) > 0 {
				p := queue[0]
				queue = queue[1:]
				if r.Forbid(p) {
					chain := []string{p}
					for q := parent[p]; q != ""; q = parent[q] {
						chain = append([]string{q}, chain...)
					}
					out = append(out, strings.Join(chain, " -> ")+": "+r.Why)
					continue // report the forbidden package, not what it imports
				}
				for _, imp := range imports[p] {
					if _, seen := parent[imp]; !seen {
						parent[imp] = p
						queue = append(queue, imp)
					}
				}
			}
		}
	}
	return out
}

func TestBoundaries(t *testing.T) {
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-e", "-deps", "-json=ImportPath,Imports,DepOnly", "./pipeline/...", "./cmd/...")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	roots := 0
	for _, p := range pkgs {
		if !p.DepOnly {
			roots++
		}
	}
	if roots == 0 {
		t.Fatalf("go list matched no packages under pipeline/ or cmd/:\n%s", stderr.String())
	}
	for _, v := range violations(pkgs, boundaryRules) {
		t.Error(v)
	}
}

func TestBoundaryViolations(t *testing.T) {
	t.Parallel()
	const (
		gate   = rootModule + "/pipeline/gate"
		report = rootModule + "/pipeline/report"
		cli    = rootModule + "/cmd/slipway"
	)
	tests := []struct {
		name string
		pkgs []listedPackage
		want []string
	}{{
		name: "clean",
		pkgs: []listedPackage{
			{ImportPath: gate, Imports: []string{report, "fmt"}},
			{ImportPath: report, Imports: []string{"fmt"}},
			{ImportPath: cli, Imports: []string{gate}},
			{ImportPath: "fmt", DepOnly: true},
		},
	}, {
		name: "direct Dagger import",
		pkgs: []listedPackage{
			{ImportPath: report, Imports: []string{"dagger.io/dagger"}},
			{ImportPath: "dagger.io/dagger", DepOnly: true},
		},
		want: []string{report + " -> dagger.io/dagger: only .dagger"},
	}, {
		name: "transitive Dagger import through a third party",
		pkgs: []listedPackage{
			{ImportPath: gate, Imports: []string{"example.com/helper"}},
			{ImportPath: "example.com/helper", Imports: []string{"dagger.io/dagger/querybuilder"}, DepOnly: true},
			{ImportPath: "dagger.io/dagger/querybuilder", DepOnly: true},
		},
		want: []string{gate + " -> example.com/helper -> dagger.io/dagger/querybuilder"},
	}, {
		name: "pipeline importing the CLI",
		pkgs: []listedPackage{
			{ImportPath: gate, Imports: []string{report}},
			{ImportPath: report, Imports: []string{cli}},
			{ImportPath: cli, Imports: []string{}},
		},
		want: []string{
			gate + " -> " + report + " -> " + cli + ": pipeline never imports cmd",
			report + " -> " + cli + ": pipeline never imports cmd",
		},
	}, {
		name: "the CLI importing the module",
		pkgs: []listedPackage{
			{ImportPath: cli, Imports: []string{"dagger/slipway"}},
			{ImportPath: "dagger/slipway", DepOnly: true},
		},
		want: []string{cli + " -> dagger/slipway: only .dagger"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := violations(tt.pkgs, boundaryRules)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations %q, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
