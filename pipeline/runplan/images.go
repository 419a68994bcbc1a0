package runplan

import (
	"fmt"
	"strings"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/registry"
)

// Image is one image of a run: built once, tagged with the run's tags in
// its own repository, compared with the baseline in that repository.
type Image struct {
	// Name is how services, suites and --ref NAME=REF name it (app for
	// the one image of a run without an images section).
	Name string `json:"name"`
	// Repository receives it: its configured repository, else the
	// ephemeral registry's (EphemeralRepository for a run's one image,
	// EphemeralRepository/NAME for each image of the images section).
	Repository string `json:"repository"`
	// Ephemeral is true when Repository is in the engine-local registry.
	Ephemeral bool `json:"ephemeral"`
	// Baseline is Repository:gate.baseline, resolved once per promotion.
	Baseline string `json:"baseline"`
	// Build says how it is built.
	Build config.Build `json:"build"`
}

// imagesOf lists the images of a config with their repositories.
func imagesOf(cfg *config.Config) []Image {
	var out []Image
	for _, im := range cfg.ImageList() {
		img := Image{Name: im.Name, Repository: im.Image, Build: im.Build}
		if img.Repository == "" {
			img.Repository, img.Ephemeral = EphemeralRepository, true
			if len(cfg.Images) > 0 {
				img.Repository += "/" + im.Name
			}
		}
		img.Baseline = img.Repository + ":" + cfg.Gate.Baseline
		out = append(out, img)
	}
	return out
}

// smokeCells are the smoke check's cells: one for a run's one image, one
// per image (smoke-NAME) for a run of several.
func smokeCells(cfg *config.Config) []matrix.Cell {
	names := cfg.ImageNames()
	var out []matrix.Cell
	for _, name := range names {
		c := matrix.SmokeCell(cfg.Smoke)
		if len(cfg.Images) > 0 {
			c.Image = name
		}
		c.ID = config.SmokeCellOf(name, len(names))
		c.Suite = c.ID
		out = append(out, c)
	}
	return out
}

// Image returns the image of the run named name.
func (p *Plan) Image(name string) (Image, bool) {
	for _, im := range p.Images {
		if im.Name == name {
			return im, true
		}
	}
	return Image{}, false
}

// ImageNames are the names of the run's images, in order.
func (p *Plan) ImageNames() []string {
	out := make([]string, len(p.Images))
	for i, im := range p.Images {
		out[i] = im.Name
	}
	return out
}

// PublishRefOf is where the engine publishes an image of the run: its
// repository's staging tag (see PublishRef).
func (p *Plan) PublishRefOf(im Image) (string, error) {
	if _, err := p.PublishRef(); err != nil {
		return "", err
	}
	return im.Repository + ":" + registry.PublishTag, nil
}

// ImageRefs parses the module's test --ref values: NAME=REF, one per image
// of the run (each pinned by digest), or one bare REF for a run of one
// image. It returns a ref per image, in the run's order ("" for an image
// not given: built from source).
func (p *Plan) ImageRefs(refs []string) ([]string, error) {
	out := make([]string, len(p.Images))
	for _, r := range refs {
		name, ref, named := strings.Cut(r, "=")
		if !named || strings.Contains(name, "/") || strings.Contains(name, "@") {
			if len(p.Images) > 1 {
				return nil, fmt.Errorf("ref %q: this run has %d images (%s): give NAME=REF for each", r, len(p.Images), strings.Join(p.ImageNames(), ", "))
			}
			name, ref = p.Images[0].Name, r
		}
		i := -1
		for j, im := range p.Images {
			if im.Name == name {
				i = j
			}
		}
		switch {
		case i < 0:
			return nil, fmt.Errorf("ref %q: %s is not an image of this run (%s)", r, name, strings.Join(p.ImageNames(), ", "))
		case out[i] != "":
			return nil, fmt.Errorf("ref %q: a second ref for %s", r, name)
		}
		pinned, err := PinnedRef(ref)
		if err != nil {
			return nil, err
		}
		out[i] = pinned
	}
	return out, nil
}
