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
func mdSection(md, title string) (string, bool) {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "## "+title {
			continue
		}
		var body []string
		for _, m := range lines[i+1:] {
			if strings.HasPrefix(m, "## ") {
				break
			}
			body = append(body, m)
		}
		return strings.Join(body, "\n"), true
	}
	return "", false
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
	md := readREADME(t)
	for _, title := range []string{
		"Install", "The main job", "Functions", "slipway.yaml", "The CLI", "Run the tests", "CI setups",
		"Debug a builder-image change on a branch", "Migrate from one build per workflow", "Troubleshooting",
	} {
		if _, ok := mdSection(md, title); !ok {
			t.Errorf("README has no section %q", "## "+title)
		}
	}
	ci, _ := mdSection(md, "CI setups")
	for _, sub := range []string{"### (a) One runner", "### (b) Many runners", "### (c) Scheduled prune", "### CircleCI"} {
		if !strings.Contains(ci, sub) {
			t.Errorf("README's CI setups have no %q", sub)
		}
	}
	trouble, _ := mdSection(md, "Troubleshooting")
	for _, topic := range []string{"baseline moved", "immutable tag exists", "Rate limits", "First promotion"} {
		if !strings.Contains(trouble, topic) {
			t.Errorf("README's troubleshooting does not cover %q", topic)
		}
	}
	debug, _ := mdSection(md, "Debug a builder-image change on a branch")
	for _, want := range []string{"build terminal", "promote --dry-run"} {
		if !strings.Contains(debug, want) {
			t.Errorf("README's branch debugging does not show %q", want)
		}
	}
	migrate, _ := mdSection(md, "Migrate from one build per workflow")
	for _, want := range []string{"Tarball artifacts", "A build per workflow", "GHCR cleanup"} {
		if !strings.Contains(migrate, want) {
			t.Errorf("README's migration does not cover %q", want)
		}
	}
	// Every file the CI setups point at exists.
	for _, m := range regexp.MustCompile(`\]\((ci/[^)]+)\)`).FindAllStringSubmatch(md, -1) {
		if _, err := os.Stat(filepath.Join(repoRoot(t), m[1])); err != nil {
			t.Errorf("README links %s, which does not exist", m[1])
		}
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
	sec, ok := mdSection(readREADME(t), "slipway.yaml")
	if !ok {
		t.Fatal("README has no slipway.yaml section")
	}
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

// imagesRecipe is the yaml block of README's "Test the image as a running
// service" that sets images.
func imagesRecipe(t *testing.T) string {
	t.Helper()
	sec, _ := mdSection(readREADME(t), "Test the image as a running service")
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
	sec, ok := mdSection(readREADME(t), "Test the image as a running service")
	if !ok {
		t.Fatal("README has no section \"Test the image as a running service\"")
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

// TestREADMEDaggerVersion: README installs the Dagger CLI of dagger.json.
func TestREADMEDaggerVersion(t *testing.T) {
	want := engineVersion(t)
	md := readREADME(t)
	ms := regexp.MustCompile("(?:DAGGER_VERSION=|Dagger CLI v)(\\d+\\.\\d+\\.\\d+[^\\s*`)]*)").FindAllStringSubmatch(md, -1)
	if len(ms) < 2 {
		t.Fatalf("README names the Dagger CLI version %d times, want it in the install step and the prose", len(ms))
	}
	for _, m := range ms {
		if m[1] != want {
			t.Errorf("README pins Dagger %s, dagger.json says %s", m[1], want)
		}
	}
}
