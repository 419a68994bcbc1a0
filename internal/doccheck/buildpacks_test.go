package doccheck

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
)

// TestREADMEBuildpacksRecipe: "Test the image your platform deploys" (in
// README or docs/) has one slipway.yaml recipe: it loads, it is
// pipeline/config/testdata/buildpacks.yaml, and it shows every field of
// build.buildpacks.
func TestREADMEBuildpacksRecipe(t *testing.T) {
	const title = "Test the image your platform deploys"
	sec, _, ok := docSection(t, title)
	if !ok {
		t.Fatalf("neither README nor docs/ has a section %q", "## "+title)
	}
	var recipes []string
	for _, b := range codeBlock.FindAllStringSubmatch(sec, -1) {
		if b[1] == "yaml" {
			recipes = append(recipes, b[2])
		}
	}
	if len(recipes) != 1 {
		t.Fatalf("the section has %d yaml blocks, want 1", len(recipes))
	}
	got, err := config.Load(strings.NewReader(recipes[0]))
	if err != nil {
		t.Fatalf("the recipe does not load: %v", err)
	}
	want, err := config.LoadFile(filepath.Join(repoRoot(t), "pipeline", "config", "testdata", "buildpacks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		a, _ := json.MarshalIndent(got.Build, "", "  ")
		b, _ := json.MarshalIndent(want.Build, "", "  ")
		t.Errorf("the recipe differs from pipeline/config/testdata/buildpacks.yaml: copy that file into README\nREADME:\n%s\nbuildpacks.yaml:\n%s", a, b)
	}
	for _, key := range append([]string{"buildpacks"}, yamlKeys(t, config.Buildpacks{})...) {
		if !strings.Contains(recipes[0], key+":") {
			t.Errorf("the recipe does not show the field %q", key)
		}
	}
	if got.Build.Buildpacks.IsZero() {
		t.Error("the recipe does not build with buildpacks")
	}
}
