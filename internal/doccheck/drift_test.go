package doccheck

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// pending lists the real gaps README and the CI wrappers may mention: a
// name the code does not have yet, or a module function or CLI verb that
// exists but is a stub (it answers "not implemented yet"). A use of a gap
// is reported in the log, not as a failure; a stub used without an entry
// here fails (the docs would promise what does not work). When the code
// closes the gap, the entry must go (the test fails until it does), and the
// invocations are checked again like any other.
var pending = []struct {
	Kind, Object, Name string // Object "" matches any
	Why                string
}{}

func pendingFor(p Problem) (string, bool) {
	for _, e := range pending {
		if e.Kind == p.Kind && e.Name == p.Name && (e.Object == "" || e.Object == p.Object) {
			return e.Why, true
		}
	}
	return "", false
}

// TestInvocationsMatchCode is the drift check: every dagger and slipway
// command line in README.md, docs/*.md and ci/ uses functions, arguments, verbs and
// flags that exist in the code today.
func TestInvocationsMatchCode(t *testing.T) {
	root := repoRoot(t)
	schema, _ := loadSchema(t, root)
	tests := loadTestsSchema(t, root)
	cli := slipwayCLI(t)
	invs, err := Collect(root)
	if err != nil {
		t.Fatal(err)
	}
	// The extraction must find the commands it is meant to check: a broken
	// extractor would otherwise pass by checking nothing.
	counts := map[string]int{}
	for _, inv := range invs {
		counts[inv.Tool+" "+topDir(inv.File)]++
	}
	for _, want := range []string{"dagger README.md", "slipway README.md", "dagger ci/github", "slipway ci/github", "dagger ci/circleci"} {
		if counts[want] == 0 {
			t.Errorf("found no %s invocation in %s", strings.Fields(want)[0], strings.Fields(want)[1])
		}
	}
	docs := map[string]int{}
	for _, inv := range invs {
		if strings.HasPrefix(inv.File, "docs/") {
			docs[inv.Tool]++
		}
	}
	for _, tool := range []string{"dagger", "slipway"} {
		if docs[tool] == 0 {
			t.Errorf("found no %s invocation in docs/", tool)
		}
	}

	used := map[string][]string{} // pending reason -> where
	for _, inv := range invs {
		var probs []Problem
		switch {
		case inv.Tool == "dagger" && inv.Module() == ".dagger/tests":
			probs = CheckDagger(inv, tests)
		case inv.Tool == "dagger":
			probs = CheckDagger(inv, schema)
		case inv.Tool == "slipway":
			probs = CheckSlipway(inv, cli)
		}
		for _, p := range probs {
			if why, ok := pendingFor(p); ok {
				key := fmt.Sprintf("%s %s: %s", p.Object, p.Name, why)
				used[key] = append(used[key], inv.Where())
				continue
			}
			switch p.Kind {
			case KindVerbPending, KindFunctionPending:
				t.Errorf("%s: %s: document it once it works, or list it in pending with the reason\n\t%s", inv.Where(), p, inv)
			default:
				t.Errorf("%s: %s\n\t%s", inv.Where(), p, inv)
			}
		}
	}

	for _, e := range pending {
		switch e.Kind {
		case KindUnknownFlag:
			if owner := schema.ArgOwner(e.Name); owner != "" {
				t.Errorf("pending --%s now exists (%s): remove it from pending so its uses are checked", e.Name, owner)
			}
		case KindUnknownFunction:
			if obj := schema.Objects[e.Object]; obj != nil && obj.Funcs[e.Name] != nil {
				t.Errorf("pending %s.%s now exists: remove it from pending so its uses are checked", e.Object, e.Name)
			}
		case KindFunctionPending:
			obj := schema.Objects[e.Object]
			switch {
			case obj == nil || obj.Funcs[e.Name] == nil:
				t.Errorf("pending stub %s.%s is not in the module any more: remove it from pending", e.Object, e.Name)
			case obj.Funcs[e.Name].Pending == "":
				t.Errorf("pending stub %s.%s is implemented now: remove it from pending and update README (status table, prune path)", e.Object, e.Name)
			}
		case KindVerbPending:
			switch v := cli.Verbs[e.Name]; {
			case v == nil:
				t.Errorf("pending stub verb slipway %s is not in the CLI any more: remove it from pending", e.Name)
			case v.Pending == "":
				t.Errorf("slipway %s is implemented now: remove it from pending (its flags in README and ci/ are then checked) and update README's status table", e.Name)
			}
		default:
			t.Errorf("pending entry %v: unknown kind", e)
		}
	}
	for _, k := range sortedKeys(used) {
		t.Logf("gap (pending): %s\n\tused at %s", k, strings.Join(used[k], ", "))
	}
	t.Logf("checked %d invocations (%v)", len(invs), counts)
}

func topDir(file string) string {
	parts := strings.SplitN(file, "/", 3)
	if len(parts) >= 2 {
		return parts[0] + "/" + parts[1]
	}
	return file
}

// TestDriftCheckBites proves the drift check fails when the documentation
// and the code disagree: a renamed flag, function, constructor argument or
// verb in a command line, and (the other direction) a Go parameter or
// method renamed in .dagger/main.go while the docs keep the old name.
func TestDriftCheckBites(t *testing.T) {
	root := repoRoot(t)
	schema, core := loadSchema(t, root)
	cli := slipwayCLI(t)
	fake := &CLI{Verbs: map[string]*Verb{"tags": {Name: "tags", Flags: ParseFlagDefaults(
		"usage: slipway tags [flags]\n\nflags:\n  -format string\n    \ttext or json (default \"text\")\n" +
			"  -json\n    \tsame as --format json\n  -revision string\n    \tgit commit\n")}}}

	tests := []struct {
		name     string
		script   string
		cli      *CLI
		needCore bool
		kind     string // "" = no problem
		what     string // the offending name
	}{
		{name: "ci with git context", script: `dagger call --revision abc --branch main --pr 0 --git-tag "" --run-id 7 ci`},
		{name: "renamed constructor argument", script: `dagger call --revison abc ci`, kind: KindUnknownFlag, what: "revison"},
		{name: "camelCase instead of kebab-case", script: `dagger call --runID 7 ci`, kind: KindUnknownFlag, what: "runID"},
		{name: "renamed function", script: `dagger call tests --shard 1/4`, kind: KindUnknownFunction, what: "tests"},
		{name: "renamed flag", script: `dagger call test --ref "$REF" --shards 1/4`, kind: KindUnknownFlag, what: "shards"},
		{name: "flag of another function", script: `dagger call test --dry-run`, kind: KindUnknownFlag, what: "dry-run"},
		{name: "required argument missing", script: `dagger call verify`, kind: KindMissingArg, what: "ref"},
		{name: "required argument given", script: `dagger call verify --ref ghcr.io/acme/app:stable`},
		{name: "chain on a value", script: `dagger call verify --ref x digest`, kind: KindNotAnObject, what: "digest"},
		{name: "boolean flags", script: `dagger call promote --dry-run && dagger call verify --ref r --full --require-promotion=false`},
		{name: "credentials before the function", script: `dagger call --registry-username u --registry-password env:P ci markdown`},
		{name: "credentials after the function", script: `dagger call ci --registry-username u --registry-password env:P`, kind: KindUnknownFlag, what: "registry-username"},
		{name: "report field", script: `dagger call test --shard 1/4 headline`},
		{name: "report of another object", script: `dagger call promote --dry-run cells`, kind: KindUnknownFunction, what: "cells"},
		{name: "line continuations and expressions", script: "dagger -m . call \\\n  --revision ${{ github.sha }} \\\n  test --shard ${{ matrix.shard }}/4 --ref \"$(cat ref)\""},
		{name: "renamed flag inside $( )", script: `digest=$(dagger call verify --reff "$REF")`, kind: KindUnknownFlag, what: "reff"},
		{name: "core chain", script: `dagger call build terminal`, needCore: true},
		{name: "core chain with elision", script: `dagger call --revision x build … terminal`, needCore: true},
		{name: "renamed core function", script: `dagger call build termnal`, needCore: true, kind: KindUnknownFunction, what: "termnal"},
		{name: "renamed core argument", script: `dagger call build publish --adress ghcr.io/a/b:1`, needCore: true, kind: KindUnknownFlag, what: "adress"},
		{name: "unknown dagger flag", script: `dagger --modd . call ci`, kind: KindUnknownFlag, what: "modd"},
		{name: "slipway renamed verb", script: `slipway tagz --revision abc`, cli: cli, kind: KindUnknownVerb, what: "tagz"},
		{name: "slipway flag on a verb without flags", script: `slipway version --json`, cli: cli, kind: KindUnknownFlag, what: "json"},
		{name: "slipway flags", script: `slipway tags --format json --revision=abc -json`, cli: fake},
		{name: "slipway renamed flag", script: `slipway tags --fmt json`, cli: fake, kind: KindUnknownFlag, what: "fmt"},
		{name: "go run form", script: `go run ./cmd/slipway tags --fmt json`, cli: fake, kind: KindUnknownFlag, what: "fmt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needCore && !core {
				t.Skip("core API of dagger.io/dagger not available")
			}
			invs := ExtractCommands(tt.script, 1)
			if len(invs) == 0 {
				t.Fatalf("no invocation found in %q", tt.script)
			}
			var probs []Problem
			for _, inv := range invs {
				if inv.Tool == "dagger" {
					probs = append(probs, CheckDagger(inv, schema)...)
				} else {
					c := tt.cli
					if c == nil {
						c = cli
					}
					probs = append(probs, CheckSlipway(inv, c)...)
				}
			}
			if tt.kind == "" {
				if len(probs) > 0 {
					t.Fatalf("want no problem, got %v", probs)
				}
				return
			}
			for _, p := range probs {
				if p.Kind == tt.kind && p.Name == tt.what {
					t.Logf("caught: %s", p)
					return
				}
			}
			t.Fatalf("want %s %q, got %v", tt.kind, tt.what, probs)
		})
	}

	// The other direction: the docs stay, the code is renamed. Every
	// renaming below must make the real README and wrappers fail.
	srcs, err := ReadModule(filepath.Join(root, ".dagger"))
	if err != nil {
		t.Fatal(err)
	}
	invs, err := Collect(root)
	if err != nil {
		t.Fatal(err)
	}
	renames := []struct {
		name, from, to string
		kind, what     string
	}{
		{"Go parameter shard renamed", "\tshard string,", "\tshards string,", KindUnknownFlag, "shard"},
		{"method Test renamed", "func (m *Slipway) Test(", "func (m *Slipway) RunTests(", KindUnknownFunction, "test"},
		{"constructor parameter runID renamed", "\trunID string,", "\trunId2 string,", KindUnknownFlag, "run-id"},
		{"constructor parameter registryPassword renamed", "\tregistryPassword *dagger.Secret,", "\tregistryToken *dagger.Secret,", KindUnknownFlag, "registry-password"},
		{"method Markdown of Promotion renamed", "func (p *Promotion) Markdown()", "func (p *Promotion) Summary()", KindUnknownFunction, "markdown"},
	}
	for _, r := range renames {
		t.Run(r.name, func(t *testing.T) {
			changed := map[string][]byte{}
			found := false
			for name, src := range srcs {
				if !found && strings.Contains(string(src), r.from) {
					src = []byte(strings.Replace(string(src), r.from, r.to, 1))
					found = true
				}
				changed[name] = src
			}
			if !found {
				t.Fatalf("no file of .dagger/ contains %q any more: update this row", r.from)
			}
			mutated, err := ParseModule(changed)
			if err != nil {
				t.Fatal(err)
			}
			var hits []string
			for _, inv := range invs {
				if inv.Tool != "dagger" {
					continue
				}
				for _, p := range CheckDagger(inv, mutated) {
					if p.Kind == r.kind && p.Name == r.what {
						hits = append(hits, inv.Where())
					}
				}
			}
			if len(hits) == 0 {
				t.Fatalf("renaming %q to %q in main.go went unnoticed by the drift check", r.from, r.to)
			}
			sort.Strings(hits)
			t.Logf("caught at %d places, e.g. %s", len(hits), hits[0])
		})
	}
}

// TestStubFunction: a module function whose body returns "not implemented
// yet" is a stub; its uses are reported (its flags still checked), and the
// functions around it are not.
func TestStubFunction(t *testing.T) {
	s, err := ParseModule(map[string][]byte{"main.go": []byte(`package main

import (
	"context"
	"errors"
)

type M struct{}

type R struct{}

func New() *M { return &M{} }

func (m *M) Done(ctx context.Context) (string, error) { return "ok", nil }

func (m *M) Later(
	ctx context.Context,
	// +optional
	confirm bool,
) (*R, error) {
	return nil, errors.New("not implemented yet: later")
}

func (r *R) Markdown() string { return "" }
`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Objects["M"].Funcs["later"].Pending; got != "not implemented yet: later" {
		t.Errorf("later: Pending %q", got)
	}
	if got := s.Objects["M"].Funcs["done"].Pending; got != "" {
		t.Errorf("done: Pending %q, want none", got)
	}
	kinds := func(script string) []string {
		var out []string
		for _, inv := range ExtractCommands(script, 1) {
			for _, p := range CheckDagger(inv, s) {
				out = append(out, p.Kind+" "+p.Name)
			}
		}
		sort.Strings(out)
		return out
	}
	for script, want := range map[string]string{
		"dagger call done":                     "",
		"dagger call later --confirm markdown": KindFunctionPending + " later",
		"dagger call later --confirn markdown": KindFunctionPending + " later," + KindUnknownFlag + " confirn",
	} {
		if got := strings.Join(kinds(script), ","); got != want {
			t.Errorf("%s: got %q, want %q", script, got, want)
		}
	}
}

// TestNamesAsTheEngineDerivesThem: a Go method named JSON is listed as
// j-son by a v0.21.8 CLI (the engine configures JSON as an acronym), so a
// README line calling `json` on it must fail, and one named Json passes.
func TestNamesAsTheEngineDerivesThem(t *testing.T) {
	t.Parallel()
	src := func(method string) map[string][]byte {
		return map[string][]byte{"main.go": []byte(`package main

type Slipway struct{}

// New creates it.
func New() *Slipway { return &Slipway{} }

// Report is a report.
type Report struct {
	// RunID of the run.
	RunID string
}

// Test tests.
func (m *Slipway) Test(sourceURL string) *Report { return nil }

// ` + method + ` is the report as JSON.
func (r *Report) ` + method + `() string { return "" }
`)}
	}
	for _, tt := range []struct {
		method, script string
		bad            string // the name reported unknown; "" for none
	}{
		{"JSON", "dagger call test --source-url u json", "json"},
		{"JSON", "dagger call test --source-url u j-son", ""},
		{"Json", "dagger call test --source-url u json", ""},
		{"Json", "dagger call test --source-url u run-id", ""},
		{"Json", "dagger call test --source-u-r-l u json", "source-u-r-l"},
	} {
		schema, err := ParseModule(src(tt.method))
		if err != nil {
			t.Fatal(err)
		}
		var probs []Problem
		for _, inv := range ExtractCommands(tt.script, 1) {
			probs = append(probs, CheckDagger(inv, schema)...)
		}
		switch {
		case tt.bad == "" && len(probs) > 0:
			t.Errorf("%s, %q: %v", tt.method, tt.script, probs)
		case tt.bad != "" && (len(probs) == 0 || probs[0].Name != tt.bad):
			t.Errorf("%s, %q: got %v, want %q reported", tt.method, tt.script, probs, tt.bad)
		}
	}
}

// TestTestsModuleCalls: a line that calls the tests module is checked
// against that module: its benchmark passes, a misspelling or a wrong flag
// fails, and Module reads -m in each of its spellings.
func TestTestsModuleCalls(t *testing.T) {
	root := repoRoot(t)
	tests := loadTestsSchema(t, root)
	for _, tt := range []struct {
		args   []string
		module string
		ok     bool
	}{
		{[]string{"-m", ".dagger/tests", "call", "bench-services", "--cells", "12"}, ".dagger/tests", true},
		{[]string{"--mod=.dagger/tests", "call", "bench-services", "--seconds", "2"}, ".dagger/tests", true},
		{[]string{"-m", ".dagger/tests", "call", "bench-service"}, ".dagger/tests", false},
		{[]string{"-m", ".dagger/tests", "call", "bench-services", "--cels", "12"}, ".dagger/tests", false},
		{[]string{"call", "prune"}, "", false},
	} {
		inv := Invocation{Tool: "dagger", File: "ci/bench/x.sh", Line: 1, Args: tt.args}
		if got := inv.Module(); got != tt.module {
			t.Errorf("%s: module %q, want %q", inv, got, tt.module)
		}
		if probs := CheckDagger(inv, tests); (len(probs) == 0) != tt.ok {
			t.Errorf("%s: problems %v, want ok=%v", inv, probs, tt.ok)
		}
	}
}
