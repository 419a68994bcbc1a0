package doccheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
)

// testCommand is README's "Run the tests": one command, the one .ci/run runs.
const testCommand = "go test -race ./..."

// mdSection returns the body of the "## title" section of a Markdown text.
// Headings are looked for outside fenced code blocks, so a code block that
// shows Markdown ("## ✅ Gate passed …") neither starts nor ends a section.
func mdSection(md, title string) (string, bool) {
	lines := strings.Split(md, "\n")
	outside := OutsideFences(md)
	for i, l := range outside {
		if strings.TrimSpace(l) != "## "+title {
			continue
		}
		var body []string
		for j := i + 1; j < len(lines); j++ {
			if strings.HasPrefix(outside[j], "## ") {
				break
			}
			body = append(body, lines[j])
		}
		return strings.Join(body, "\n"), true
	}
	return "", false
}

// docPage is one page of the documentation: README.md or docs/*.md.
type docPage struct{ file, md string }

// readDocs reads README.md and every docs/*.md page.
func readDocs(t *testing.T) []docPage {
	t.Helper()
	root := repoRoot(t)
	files, err := DocFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []docPage
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, docPage{f, string(data)})
	}
	if len(out) == 0 || out[0].file != "README.md" {
		t.Fatal("no README.md at the repository root")
	}
	return out
}

// docSection returns the body of the "## title" section in whichever page
// holds it, README.md or a page of docs/, and that page. A title two pages
// hold fails the test: the checks of that section would be ambiguous.
func docSection(t *testing.T, title string) (body, file string, ok bool) {
	t.Helper()
	for _, p := range readDocs(t) {
		b, found := mdSection(p.md, title)
		if !found {
			continue
		}
		if ok {
			t.Fatalf("both %s and %s have a section %q: keep it in one page", file, p.file, "## "+title)
		}
		body, file, ok = b, p.file, true
	}
	return body, file, ok
}

var codeBlock = regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```")

func readREADME(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestREADMESections(t *testing.T) {
	section := func(title string) string {
		t.Helper()
		body, _, ok := docSection(t, title)
		if !ok {
			t.Errorf("neither README nor docs/ has a section %q", "## "+title)
		}
		return body
	}
	for _, title := range []string{
		"Install", "The main job", "Functions", "slipway.yaml", "The CLI", "Run the tests", "CI setups",
		"Debug a builder-image change on a branch", "Migrate from one build per workflow", "Troubleshooting",
	} {
		section(title)
	}
	// The front door keeps these.
	md := readREADME(t)
	for _, title := range []string{"Install", "The main job", "Run the tests", "End-to-end checks on an engine"} {
		if _, ok := mdSection(md, title); !ok {
			t.Errorf("README has no section %q", "## "+title)
		}
	}
	ci := section("CI setups")
	for _, sub := range []string{"### (a) One runner", "### (b) Many runners", "### (c) Scheduled prune", "### CircleCI"} {
		if !strings.Contains(ci, sub) {
			t.Errorf("the CI setups have no %q", sub)
		}
	}
	trouble := section("Troubleshooting")
	for _, topic := range []string{"baseline moved", "immutable tag exists", "Rate limits", "First promotion"} {
		if !strings.Contains(trouble, topic) {
			t.Errorf("the troubleshooting does not cover %q", topic)
		}
	}
	debug := section("Debug a builder-image change on a branch")
	for _, want := range []string{"build terminal", "promote --dry-run"} {
		if !strings.Contains(debug, want) {
			t.Errorf("the branch debugging does not show %q", want)
		}
	}
	migrate := section("Migrate from one build per workflow")
	for _, want := range []string{"Tarball artifacts", "A build per workflow", "GHCR cleanup"} {
		if !strings.Contains(migrate, want) {
			t.Errorf("the migration does not cover %q", want)
		}
	}
	// Every file under ci/ that a page points at exists (from docs/, the
	// links go up: ../ci/…).
	n := 0
	for _, p := range readDocs(t) {
		for _, m := range regexp.MustCompile(`\]\(((?:\.\./)*ci/[^)#]+)[^)]*\)`).FindAllStringSubmatch(p.md, -1) {
			n++
			if _, err := os.Stat(filepath.Join(repoRoot(t), filepath.Dir(p.file), m[1])); err != nil {
				t.Errorf("%s links %s, which does not exist", p.file, m[1])
			}
		}
	}
	if n == 0 {
		t.Error("no page links a file under ci/: the CI setups lost their links")
	}
}

// TestREADMETestCommand: "Run the tests" is ONE command, and it is the one
// .ci/run runs.
func TestREADMETestCommand(t *testing.T) {
	sec, ok := mdSection(readREADME(t), "Run the tests")
	if !ok {
		t.Fatal("README has no Run the tests section")
	}
	blocks := codeBlock.FindAllStringSubmatch(sec, -1)
	if len(blocks) != 1 {
		t.Fatalf("Run the tests has %d code blocks, want exactly 1", len(blocks))
	}
	if got := strings.TrimSpace(blocks[0][2]); got != testCommand {
		t.Errorf("Run the tests says %q, want the one command %q", got, testCommand)
	}
	run, err := os.ReadFile(filepath.Join(repoRoot(t), ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range strings.Split(string(run), "\n") {
		found = found || strings.TrimSpace(l) == testCommand
	}
	if !found {
		t.Errorf(".ci/run does not run README's test command %q on a line of its own", testCommand)
	}
}

// TestREADMEConfigExample: README's slipway.yaml example loads, and it is
// the config of pipeline/config/testdata/full.yaml (every field).
func TestREADMEConfigExample(t *testing.T) {
	sec, file, ok := docSection(t, "slipway.yaml")
	if !ok {
		t.Fatal("neither README nor docs/ has a slipway.yaml section")
	}
	t.Logf("the slipway.yaml section is in %s", file)
	var example string
	for _, b := range codeBlock.FindAllStringSubmatch(sec, -1) {
		if b[1] == "yaml" {
			if example != "" {
				t.Fatal("the slipway.yaml section has more than one yaml block")
			}
			example = b[2]
		}
	}
	if example == "" {
		t.Fatal("the slipway.yaml section has no yaml block")
	}
	got, err := config.Load(strings.NewReader(example))
	if err != nil {
		t.Fatalf("README's slipway.yaml does not load: %v", err)
	}
	full, err := config.LoadFile(filepath.Join(repoRoot(t), "pipeline", "config", "testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, full) {
		a, _ := json.MarshalIndent(got, "", "  ")
		b, _ := json.MarshalIndent(full, "", "  ")
		t.Errorf("README's slipway.yaml differs from pipeline/config/testdata/full.yaml: copy that file into README\nREADME:\n%s\nfull.yaml:\n%s", a, b)
	}
	// "Every field": the example sets every key the schema knows, but the
	// images section, which excludes image and build: the two-image recipe
	// (TestREADMEImagesRecipe) shows it; and build.buildpacks, the
	// alternative to the Dockerfile, which TestREADMEBuildpacksRecipe
	// checks in its own recipe.
	recipe := imagesRecipe(t)
	alt := map[string]bool{"buildpacks": true}
	for _, k := range yamlKeys(t, config.Buildpacks{}) {
		alt[k] = true
	}
	for _, key := range yamlKeys(t, full) {
		shown := example
		switch {
		case alt[key]:
			continue
		case key == "images":
			shown = recipe
		}
		if !strings.Contains(shown, key+":") {
			t.Errorf("README's slipway.yaml does not show the field %q", key)
		}
	}
}

// imagesRecipe is the yaml block of "Test the image as a running service"
// (in README or docs/) that sets images.
func imagesRecipe(t *testing.T) string {
	t.Helper()
	sec, _, _ := docSection(t, "Test the image as a running service")
	for _, b := range codeBlock.FindAllStringSubmatch(sec, -1) {
		if b[1] == "yaml" && strings.Contains(b[2], "\nimages:") {
			return b[2]
		}
	}
	t.Fatal("README's \"Test the image as a running service\" has no recipe with images:")
	return ""
}

// TestREADMEImagesRecipe: README's two-image recipe is the config of
// pipeline/config/testdata/images.yaml, which sets every field of the
// images section (config's TestFullHasEveryField).
func TestREADMEImagesRecipe(t *testing.T) {
	got, err := config.Load(strings.NewReader(imagesRecipe(t)))
	if err != nil {
		t.Fatalf("README's two-image recipe does not load: %v", err)
	}
	want, err := config.LoadFile(filepath.Join(repoRoot(t), "pipeline", "config", "testdata", "images.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("README's two-image recipe differs from pipeline/config/testdata/images.yaml: copy that file into README")
	}
	if len(got.Images) < 2 {
		t.Errorf("the recipe has %d images", len(got.Images))
	}
}

// TestREADMEServiceRecipes: the slipway.yaml blocks of README's "Test the
// image as a running service" load, and their suites have services.
func TestREADMEServiceRecipes(t *testing.T) {
	sec, _, ok := docSection(t, "Test the image as a running service")
	if !ok {
		t.Fatal("neither README nor docs/ has a section \"Test the image as a running service\"")
	}
	n := 0
	for _, b := range codeBlock.FindAllStringSubmatch(sec, -1) {
		if b[1] != "yaml" {
			continue
		}
		n++
		cfg, err := config.Load(strings.NewReader(b[2]))
		if err != nil {
			t.Errorf("recipe %d does not load: %v", n, err)
			continue
		}
		for _, s := range cfg.Test.Suites {
			if len(s.Services) == 0 {
				t.Errorf("recipe %d: suite %s has no service", n, s.Name)
			}
		}
	}
	if n == 0 {
		t.Error("the section has no yaml recipe")
	}
}

// yamlKeys lists the yaml keys of the config's struct fields.
func yamlKeys(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	var walk func(rt reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			out = append(out, name)
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(v))
	return out
}

// engineVersion is dagger.json's engineVersion without its "v".
func engineVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "dagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dj struct {
		EngineVersion string `json:"engineVersion"`
	}
	if err := json.Unmarshal(data, &dj); err != nil {
		t.Fatal(err)
	}
	v := strings.TrimPrefix(dj.EngineVersion, "v")
	if v == "" {
		t.Fatal("dagger.json has no engineVersion")
	}
	return v
}

// TestREADMEDaggerVersion: README installs the Dagger CLI of dagger.json,
// and no page of docs/ names another version.
func TestREADMEDaggerVersion(t *testing.T) {
	want := engineVersion(t)
	version := regexp.MustCompile("(?:DAGGER_VERSION=|Dagger CLI v)(\\d+\\.\\d+\\.\\d+[^\\s*`)]*)")
	for _, p := range readDocs(t) {
		ms := version.FindAllStringSubmatch(p.md, -1)
		if p.file == "README.md" && len(ms) < 2 {
			t.Fatalf("README names the Dagger CLI version %d times, want it in the install step and the prose", len(ms))
		}
		for _, m := range ms {
			if m[1] != want {
				t.Errorf("%s pins Dagger %s, dagger.json says %s", p.file, m[1], want)
			}
		}
	}
}
