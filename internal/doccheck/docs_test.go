package doccheck

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"go.yaml.in/yaml/v3"
)

// What README.md held before its manual moved to docs/ (#22 §1), counted on
// that README (1,131 lines) with FromMarkdown and codeBlock: its command
// lines by tool, its yaml blocks, and of those the slipway.yaml configs.
// README and docs/ together must keep at least as many, so that a page
// lost on the way (or an extractor that stops finding them) fails here.
const (
	oldREADMEDagger      = 32
	oldREADMESlipway     = 38
	oldREADMEYAMLBlocks  = 6
	oldREADMEConfigBlock = 4
)

// TestDocsKeepEveryCheck: README.md and docs/*.md together hold at least
// the command lines and configs the old README did, every page of docs/ is
// read by Collect, and every slipway.yaml block (a yaml block that is a
// mapping; the others are GitHub Actions steps) loads.
func TestDocsKeepEveryCheck(t *testing.T) {
	root := repoRoot(t)
	invs, err := Collect(root)
	if err != nil {
		t.Fatal(err)
	}
	tools := map[string]int{}
	perFile := map[string]int{}
	for _, inv := range invs {
		if inv.File == "README.md" || strings.HasPrefix(inv.File, "docs/") {
			tools[inv.Tool]++
			perFile[inv.File]++
		}
	}
	if tools["dagger"] < oldREADMEDagger || tools["slipway"] < oldREADMESlipway {
		t.Errorf("README and docs/ hold %d dagger and %d slipway command lines, the old README %d and %d: a command was lost",
			tools["dagger"], tools["slipway"], oldREADMEDagger, oldREADMESlipway)
	}
	blocks, configs := 0, 0
	pages := readDocs(t)
	if len(pages) < 2 {
		t.Fatalf("found %d pages: docs/ has no page", len(pages))
	}
	for _, p := range pages {
		for _, b := range codeBlock.FindAllStringSubmatch(p.md, -1) {
			if b[1] != "yaml" {
				continue
			}
			blocks++
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(b[2]), &doc); err != nil {
				t.Errorf("%s: a yaml block does not parse: %v", p.file, err)
				continue
			}
			if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
				continue // a list of workflow steps
			}
			if isKubernetesObject(doc.Content[0]) {
				continue // an admission policy, not a slipway.yaml
			}
			configs++
			if _, err := config.Load(strings.NewReader(b[2])); err != nil {
				t.Errorf("%s: a slipway.yaml block does not load: %v", p.file, err)
			}
		}
	}
	if blocks < oldREADMEYAMLBlocks || configs < oldREADMEConfigBlock {
		t.Errorf("README and docs/ hold %d yaml blocks (%d slipway.yaml), the old README %d (%d)",
			blocks, configs, oldREADMEYAMLBlocks, oldREADMEConfigBlock)
	}
	files := sortedKeys(perFile)
	sort.Strings(files)
	for _, f := range files {
		t.Logf("%s: %d command lines", f, perFile[f])
	}
	t.Logf("README and docs/: %d dagger, %d slipway command lines; %d yaml blocks, %d of them slipway.yaml", tools["dagger"], tools["slipway"], blocks, configs)
}

// TestDocLinks: every relative link of README.md and docs/*.md resolves: the
// file exists, and an anchor is a heading of the page it points into.
func TestDocLinks(t *testing.T) {
	root := repoRoot(t)
	files, err := DocFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		bad, err := BrokenLinks(root, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bad {
			t.Error(b)
		}
		p := readDocs(t)
		for _, pg := range p {
			if pg.file == f {
				n += len(RelativeLinks(pg.md))
			}
		}
	}
	if n == 0 {
		t.Error("found no relative link in README and docs/: the link extraction is broken")
	}
	t.Logf("checked %d relative links in %d pages", n, len(files))
}

// TestSlug: GitHub's anchors of headings this documentation uses.
func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"slipway.yaml":                              "slipwayyaml",
		"Roll back":                                 "roll-back",
		"(d) Roll back by hand: GitHub Actions":     "d-roll-back-by-hand-github-actions",
		"Results from any runner: `slipway report`": "results-from-any-runner-slipway-report",
		"End-to-end checks on an engine":            "end-to-end-checks-on-an-engine",
		"CircleCI: (a) and (c)":                     "circleci-a-and-c",
		"snake_case and UPPER":                      "snake_case-and-upper",
		"✅ Gate passed":                             "-gate-passed",
		"See [the docs](docs/x.md)":                 "see-the-docs",
		"Debug a builder-image change on a branch":  "debug-a-builder-image-change-on-a-branch",
		"Test the image your platform deploys":      "test-the-image-your-platform-deploys",
		"What the engine does for you":              "what-the-engine-does-for-you",
		"Migrate from one build per workflow":       "migrate-from-one-build-per-workflow",
		"The module's functions":                    "the-modules-functions",
		"Tests and end-to-end checks":               "tests-and-end-to-end-checks",
		"A blocked gate in CI":                      "a-blocked-gate-in-ci",
		"Configuration reference: slipway.yaml":     "configuration-reference-slipwayyaml",
		"Which registries work":                     "which-registries-work",
		"The smoke check":                           "the-smoke-check",
		"Several platforms":                         "several-platforms",
		"Test the image as a running service":       "test-the-image-as-a-running-service",
		"What the tests cover":                      "what-the-tests-cover",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
	a := Anchors("# A\n\n## A\n\n```sh\n# not a heading\n```\n\n### B ###\n")
	for _, want := range []string{"a", "a-1", "b"} {
		if !a[want] {
			t.Errorf("Anchors: no %q in %v", want, a)
		}
	}
	if a["not-a-heading"] {
		t.Error("Anchors: a comment in a code block is no heading")
	}
}

// TestBrokenLinksBites: the link check reports a missing file, a missing
// anchor (in the page itself and in another), and an anchor into a file
// that is not Markdown; it ignores URLs and links inside code.
func TestBrokenLinksBites(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := root + "/" + name
		if err := mkdirFor(p); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(p, text); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# R\n\n## Run the tests\n\n[ok](docs/a.md#roll-back) [ok](#run-the-tests) [ok](ci/x.yml)\n"+
		"[bad](docs/b.md) [bad](#nowhere) [bad](docs/a.md#nowhere) [bad](ci/x.yml#top)\n"+
		"[url](https://example.com/x.md#y) `[code](docs/c.md)`\n\n```md\n[fenced](docs/d.md)\n```\n")
	write("docs/a.md", "# A\n\n[back](../README.md#run-the-tests) [bad](../README.md#roll-back) [bad](../../out.md)\n\n## Roll back\n")
	write("ci/x.yml", "on: push\n")
	bad, err := BrokenLinks(root, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	more, err := BrokenLinks(root, "docs/a.md")
	if err != nil {
		t.Fatal(err)
	}
	bad = append(bad, more...)
	want := []string{`"docs/b.md"`, `"#nowhere"`, `"docs/a.md#nowhere"`, `"ci/x.yml#top"`, `"../README.md#roll-back"`, `"../../out.md"`}
	if len(bad) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(bad), len(want), strings.Join(bad, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(bad[i], w) {
			t.Errorf("problem %d: %s, want one about %s", i, bad[i], w)
		}
	}
}

func mkdirFor(p string) error { return os.MkdirAll(filepath.Dir(p), 0o755) }

func writeFile(p, text string) error { return os.WriteFile(p, []byte(text), 0o644) }

// isKubernetesObject reports whether a YAML mapping is a Kubernetes object
// (apiVersion and kind at its top): slipway.yaml has neither key.
func isKubernetesObject(m *yaml.Node) bool {
	keys := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		keys[m.Content[i].Value] = true
	}
	return keys["apiVersion"] && keys["kind"]
}
