package config

import (
	"reflect"
	"slices"
	"strings"
)

// Image is one image of a run that builds several (the images section):
// each is built once per run, tested together with the others, tagged and
// promoted in its own repository, and its floating tags move together with
// the others' or not at all.
type Image struct {
	// Name names the image in a service (image: NAME), a suite (image:
	// NAME) and the module's test --ref NAME=REF; a DNS label, unique.
	Name string `yaml:"name" json:"name"`
	// Image is the repository that receives it (no tag, no digest), unique
	// among the images. Default "": the ephemeral registry's
	// localhost:5000/slipway/NAME.
	Image string `yaml:"image" json:"image"`
	// Build says how it is built, once per run; each field defaults as in
	// the build section.
	Build Build `yaml:"build" json:"build"`
}

// DefaultImage is an entry of images before the file sets its fields: the
// build section's defaults.
func DefaultImage() Image {
	return Image{Build: Default().Build}
}

// elemDefault is where a list element of type t starts from before it is
// decoded: DefaultImage for an entry of images, else the zero value.
func elemDefault(t reflect.Type) (reflect.Value, bool) {
	if t == reflect.TypeFor[Image]() {
		return reflect.ValueOf(DefaultImage()), true
	}
	return reflect.Value{}, false
}

// ImageList returns the images a run builds, in order: the images section,
// or else the one image of the image and build sections, named app. The
// first is the default image under test.
func (c *Config) ImageList() []Image {
	if len(c.Images) > 0 {
		return c.Images
	}
	return []Image{{Name: AppImage, Image: c.Image, Build: c.Build}}
}

// ImageNames returns the names of ImageList, in order.
func (c *Config) ImageNames() []string {
	var out []string
	for _, im := range c.ImageList() {
		out = append(out, im.Name)
	}
	return out
}

// SuiteImage is the image a suite's command runs in when it has no runner:
// its image, else the first image of the run.
func (c *Config) SuiteImage(s Suite) string {
	if s.Image != "" {
		return s.Image
	}
	return c.ImageNames()[0]
}

// SmokeCellOf is the id of the smoke check's cell of an image: smoke for
// a run of one image, smoke-NAME for each image of a run of several.
func SmokeCellOf(image string, images int) string {
	if images <= 1 {
		return SmokeCell
	}
	return SmokeCell + "-" + image
}

// images checks the images section: it replaces image and build (set
// neither beside it; a build section equal to the defaults is no harm), and
// each entry has a unique name and repository and
// a valid build.
func (v *validator) images(c *Config) {
	if len(c.Images) == 0 {
		return
	}
	if c.Image != "" {
		v.add("image", "give images[].image for each image, not image: images replaces image and build")
	}
	if !reflect.DeepEqual(c.Build, Default().Build) {
		v.add("build", "give images[].build for each image, not build: images replaces image and build")
	}
	for i, im := range c.Images {
		p := index("images", i)
		switch first := slices.IndexFunc(c.Images, func(o Image) bool { return o.Name == im.Name }); {
		case !serviceNameRE.MatchString(im.Name):
			v.add(p+".name", "%q is not an image name (lowercase letters, digits and '-', at most 63)", im.Name)
		case first < i:
			v.add(p+".name", "duplicate image name %q (first at %s)", im.Name, index("images", first))
		}
		if im.Image != "" {
			v.imageAt(p+".image", im.Image)
			if first := slices.IndexFunc(c.Images, func(o Image) bool { return o.Image == im.Image }); first < i {
				v.add(p+".image", "%q is also %s's repository: each image needs its own", im.Image, index("images", first))
			}
		}
		v.buildAt(p+".build", &c.Images[i].Build)
	}
	if len(c.Images) < 2 {
		return
	}
	// Each image has its platforms; a cell's would be ambiguous.
	for i, s := range c.Test.Suites {
		if OnAllPlatforms(s.Platforms) {
			v.add(index("test.suites", i)+".platforms", "all is for a run of one image: with several images, cells run on each image's first platform")
		}
	}
	if OnAllPlatforms(c.Smoke.Platforms) {
		v.add("smoke.platforms", "all is for a run of one image: with several images, cells run on each image's first platform")
	}
}

// imagesTested checks that every image of a run of several is tested: by
// a suite (its image, or a service), or by the smoke check. An image no
// cell runs would be promoted untested.
func (v *validator) imagesTested(c *Config) {
	if len(c.Images) < 2 || c.Smoke.Runs(len(c.Test.Suites)) {
		return
	}
	used := map[string]bool{}
	for _, s := range c.Test.Suites {
		if s.Runner.IsZero() {
			used[c.SuiteImage(s)] = true
		}
		for _, svc := range s.Services {
			used[svc.Image] = true
		}
	}
	for i, im := range c.Images {
		if !used[im.Name] {
			v.add(index("images", i), "no suite tests %s: name it in a suite's image or services, or set smoke.mode: always", im.Name)
		}
	}
}

// imageName checks a reference to an image of the run (a service's or a
// suite's image).
func (v *validator) imageName(p, name string, names []string) {
	if name != "" && !slices.Contains(names, name) {
		v.add(p, "%q is not an image of this run (this run builds %s)", name, strings.Join(names, ", "))
	}
}
