package daggername

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestField pins Field and Type to what strcase v0.3.0 returns in an engine
// that configured the acronyms JSON and LLM, quirks included (HTTPServer ->
// httpserver, a1b -> a1B, JSON -> jSON).
func TestField(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, field, typ string }{
		{"JSON", "jSON", "JSON"},
		{"LLM", "lLM", "LLM"},
		{"Json", "json", "Json"},
		{"JSONText", "jsontext", "Jsontext"}, // an acronym only as the whole name
		{"Junit", "junit", "Junit"},
		{"Ci", "ci", "Ci"},
		{"runID", "runId", "RunId"},
		{"sourceURL", "sourceUrl", "SourceUrl"},
		{"RunID", "runId", "RunId"},
		{"DryRun", "dryRun", "DryRun"},
		{"slipway-tests", "slipwayTests", "SlipwayTests"},
		{"my_mod", "myMod", "MyMod"},
		{"HTTPServer", "httpserver", "Httpserver"},
		{"v2Thing", "v2Thing", "V2Thing"},
		{"a1b", "a1B", "A1B"},
		{"x.y", "xY", "XY"},
		{"slipway_TestReport", "slipwayTestReport", "SlipwayTestReport"},
		{"ID", "id", "Id"},
		{"e2eTest", "e2ETest", "E2ETest"},
		{" spaced name ", "spacedName", "SpacedName"},
		{"", "", ""},
	} {
		if got := Field(tt.in); got != tt.field {
			t.Errorf("Field(%q) = %q, want %q", tt.in, got, tt.field)
		}
		if got := Type(tt.in); got != tt.typ {
			t.Errorf("Type(%q) = %q, want %q", tt.in, got, tt.typ)
		}
	}
}

func TestKebab(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"runId": "run-id", "gitTag": "git-tag", "dryRun": "dry-run", "jSON": "j-son", "json": "json",
		"withRegistryAuth": "with-registry-auth", "RunID": "run-id", "JSONData": "json-data",
		"sha256": "sha-256", "ref": "ref", "trivyDb": "trivy-db", "sourceUrl": "source-url",
		"a_b c.d": "a-b-c-d", "e2ETest": "e-2-e-test",
	} {
		if got := Kebab(in); got != want {
			t.Errorf("Kebab(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGo(t *testing.T) {
	t.Parallel()
	// Go identifier -> schema name (engine) -> Go name in a depender's bindings.
	for _, tt := range []struct{ goIdent, binding string }{
		{"JSON", "JSON"},
		{"Json", "JSON"},
		{"Junit", "Junit"},
		{"runID", "RunID"},
		{"sourceURL", "SourceURL"},
		{"HTTPServer", "Httpserver"},
		{"apiURL", "APIURL"},
		{"llmConfig", "LLMConfig"},
		{"sdk", "SDK"},
	} {
		if got := Go(Field(tt.goIdent)); got != tt.binding {
			t.Errorf("%s: binding name %q, want %q", tt.goIdent, got, tt.binding)
		}
	}
}

// observedGoNames are the Go declarations behind each listing of
// testdata/cli-names-observed.txt (the module as it stood when a real
// v0.21.8 CLI listed it): the functions of the main object, of TestReport,
// of Promotion and of PruneReport.
var observedGoNames = map[string][]string{
	"dagger call  --help (functions)":        {"Build", "Ci", "Promote", "Prune", "Tags", "Test", "Verify"},
	"dagger call test --help (functions)":    {"Cells", "Headline", "JSON", "Junit", "Markdown", "Tests"},
	"dagger call promote --help (functions)": {"Actions", "Baseline", "Decision", "DryRun", "Headline", "JSON", "Junit", "Markdown", "Mode", "Published"},
	"dagger call prune --help (functions)":   {"JSON", "Markdown"},
}

// TestObservedCLINames derives the CLI names of the declarations behind
// every listing a real v0.21.8 CLI printed, and compares them with it.
func TestObservedCLINames(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/cli-names-observed.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string][]string{}
	section := ""
	name := regexp.MustCompile(`^  ([a-z][a-z0-9-]*) `)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if h, ok := strings.CutPrefix(line, "### "); ok {
			section = h
			continue
		}
		if m := name.FindStringSubmatch(line); m != nil {
			listed[section] = append(listed[section], m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(observedGoNames) {
		t.Fatalf("the fixture has %d listings, the test knows %d: %v", len(listed), len(observedGoNames), listed)
	}
	for section, goNames := range observedGoNames {
		var derived []string
		for _, n := range goNames {
			derived = append(derived, CLI(n))
		}
		slices.Sort(derived)
		got := slices.Sorted(slices.Values(listed[section]))
		if !slices.Equal(derived, got) {
			t.Errorf("%s: derived %q, the CLI listed %q", section, derived, got)
		}
	}
}

// FuzzCLI checks that a CLI name is lower case and that the conversions
// never panic.
func FuzzCLI(f *testing.F) {
	for _, s := range []string{"JSON", "RunID", "e2eTest", "a_b", "", "ÄÖ", "x.Y-z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CLI(s)
		if strings.ToLower(c) != c && strings.IndexFunc(c, func(r rune) bool { return r > 127 }) < 0 {
			t.Errorf("CLI(%q) = %q: not lower case", s, c)
		}
		_ = Go(Type(s))
	})
}
