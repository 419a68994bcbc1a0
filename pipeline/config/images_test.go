package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestImageList: the images section is the run's images, each entry's
// build starting from the build section's defaults; without it the run has
// one image, app, of image and build.
func TestImageList(t *testing.T) {
	t.Parallel()
	cfg, err := LoadFile("testdata/images.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.ImageList()
	want := []Image{
		{Name: "localnode", Image: "ghcr.io/acme/localnode", Build: Build{
			Dockerfile: "docker/localnode.Dockerfile", Context: ".", Target: "runtime",
			Args: map[string]string{"GO_VERSION": "1.26"}, Platforms: []string{"linux/amd64", "linux/arm64"},
		}},
		{Name: "rpcnode", Image: "ghcr.io/acme/rpcnode", Build: Build{Dockerfile: "docker/rpcnode.Dockerfile", Context: ".", Platforms: []string{"linux/amd64"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("images %+v\nwant %+v", got, want)
	}
	if s := cfg.Test.Suites; cfg.SuiteImage(s[0]) != "localnode" || cfg.SuiteImage(s[1]) != "rpcnode" {
		t.Errorf("suite images %q %q, want the first image by default", cfg.SuiteImage(s[0]), cfg.SuiteImage(s[1]))
	}
	one := load(t, "image: ghcr.io/acme/app\nbuild: {target: runtime}")
	if got := one.ImageList(); len(got) != 1 || got[0].Name != AppImage || got[0].Image != "ghcr.io/acme/app" || got[0].Build.Target != "runtime" {
		t.Errorf("one image: %+v", got)
	}
	// An explicit [] empties a default list in an entry too.
	if _, err := Load(strings.NewReader("images: [{name: a, build: {platforms: []}}]")); err == nil || !strings.Contains(err.Error(), "images[0].build.platforms: must list at least one platform") {
		t.Errorf("platforms: [] in an image: %v", err)
	}
	if id := SmokeCellOf("rpcnode", 2); id != "smoke-rpcnode" || SmokeCellOf("app", 1) != SmokeCell {
		t.Errorf("smoke cells %q", id)
	}
}
