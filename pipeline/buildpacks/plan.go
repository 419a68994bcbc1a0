package buildpacks

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/config"
)

// Layout is where a build's files are in the builder container.
type Layout struct {
	// CNB is the builder's own directory: lifecycle/, buildpacks/,
	// order.toml, build-config/.
	CNB string
	// App is the application directory: the sources go there, and there
	// the app is in the image (its working directory).
	App string
	// Layers is the lifecycle's layers directory.
	Layers string
	// Platform is the platform directory (env/ for the build environment).
	Platform string
	// Work holds Slipway's own files: the order, the OCI layouts and the
	// image tarballs.
	Work string
}

// DefaultLayout is the layout of a build in a builder image: the
// builder's /cnb, and the directories platforms use (the app is at
// /workspace in the image, as pack and kpack put it).
func DefaultLayout() Layout {
	return Layout{CNB: "/cnb", App: "/workspace", Layers: "/layers", Platform: "/platform", Work: "/slipway"}
}

// Creator is the lifecycle's creator: analyze, detect, restore, build and
// export in one process.
func (l Layout) Creator() string { return path.Join(l.CNB, "lifecycle", "creator") }

// Buildpacks is the builder's buildpacks directory, where the extra
// buildpacks are added.
func (l Layout) Buildpacks() string { return path.Join(l.CNB, "buildpacks") }

// RunTarball is where the Engine puts the run image, as an OCI tarball.
func (l Layout) RunTarball() string { return path.Join(l.Work, "run.tar") }

// ImageTarball is where the last step writes the app image, as an OCI
// tarball: the Engine loads it.
func (l Layout) ImageTarball() string { return path.Join(l.Work, "image.tar") }

// LayoutDir is the lifecycle's OCI layout directory: the run image is
// read from it and the app image written to it.
func (l Layout) LayoutDir() string { return path.Join(l.Work, "layout") }

// OutputRef is the name the lifecycle exports the app image under; in
// layout mode it only names a directory of LayoutDir.
const OutputRef = "slipway.invalid/app:build"

// LayoutPath is where the lifecycle keeps ref in layoutDir: registry,
// repository, then the tag or the digest's algorithm and hex (imgutil's
// layout.ParseRefToPath, which lifecycle v0.20.5 uses).
func LayoutPath(layoutDir, ref string) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	p := path.Join(layoutDir, r.Context().RegistryStr(), r.Context().RepositoryStr())
	if alg, hex, ok := strings.Cut(r.Identifier(), ":"); ok {
		return path.Join(p, alg, hex), nil
	}
	return path.Join(p, r.Identifier()), nil
}

// File is a file the Engine writes before the steps.
type File struct {
	Path, Contents string
}

// Plan is a whole buildpacks build: what the Engine places in the builder
// container (owned by Owner), the steps it runs there as Owner with Env,
// and the tarball it loads the image from.
type Plan struct {
	Layout Layout
	// Platform is the build's platform (os/arch): the variant of the
	// builder, the run image and the extra buildpacks used.
	Platform string
	Builder  Builder
	// RunImage is the run image, pinned by digest; the Engine puts it at
	// Layout.RunTarball() as an OCI tarball.
	RunImage string
	// Packages are the extra buildpacks, in order: the Engine copies each
	// image's PackageDir into Layout.Buildpacks().
	Packages []Package
	// Order is the order the build uses: the builder's, or it with the
	// extra buildpacks injected.
	Order Order
	// Owner is the build user as uid:gid: the steps run as it, and the
	// directories and files below are its own.
	Owner string
	// Env is set (KEY=VALUE) for every step.
	Env []string
	// Dirs are created empty before the steps; the sources go to
	// Layout.App.
	Dirs []string
	// Files are written before the steps.
	Files []File
	// Steps are run in turn; a failing one fails the build.
	Steps [][]string
	// Output is the OCI tarball the last step writes.
	Output string
}

// NewPlan plans the build of cfg on builder b with the extra buildpacks
// pkgs (read from cfg.Buildpacks' refs, in their order) for platform.
func NewPlan(cfg config.Buildpacks, platform string, b Builder, pkgs []Package, l Layout) (*Plan, error) {
	p := &Plan{Layout: l, Platform: platform, Builder: b, Packages: pkgs, Output: l.ImageTarball()}
	p.Owner = strconv.Itoa(b.UID) + ":" + strconv.Itoa(b.GID)
	var err error
	if p.RunImage, err = pickRunImage(cfg.RunImage, b); err != nil {
		return nil, err
	}
	runDir, err := LayoutPath(l.LayoutDir(), p.RunImage)
	if err != nil {
		return nil, fmt.Errorf("build.buildpacks.runImage %s: %w", p.RunImage, err)
	}
	orderPath := path.Join(l.CNB, "order.toml")
	if len(pkgs) > 0 {
		if p.Order, err = inject(cfg.Buildpacks, b, pkgs); err != nil {
			return nil, err
		}
		orderPath = path.Join(l.Work, "order.toml")
		p.Files = append(p.Files, File{Path: orderPath, Contents: string(p.Order.TOML())})
	} else {
		p.Order = b.Order
	}
	p.Dirs = []string{l.Layers, l.Platform, path.Join(l.Platform, "env"), l.Work, l.LayoutDir(), runDir}
	keys := make([]string, 0, len(cfg.Env))
	for k := range cfg.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p.Files = append(p.Files, File{Path: path.Join(l.Platform, "env", k), Contents: cfg.Env[k]})
	}
	appDir, err := LayoutPath(l.LayoutDir(), OutputRef)
	if err != nil {
		return nil, err
	}
	p.Env = []string{
		"CNB_PLATFORM_API=" + b.PlatformAPI,
		// The OCI layout export is experimental in the lifecycle: allow
		// it, and say so in the log.
		"CNB_EXPERIMENTAL_MODE=warn",
	}
	p.Steps = [][]string{
		{"tar", "-x", "-f", l.RunTarball(), "-C", runDir},
		p.creator(orderPath),
		{"tar", "-c", "-f", p.Output, "-C", appDir, "index.json", "oci-layout", "blobs"},
	}
	return p, nil
}

// creator is the creator's command line: every input named, so nothing
// depends on the builder's environment but its user.
func (p *Plan) creator(orderPath string) []string {
	l := p.Layout
	lifecycle := path.Join(l.CNB, "lifecycle")
	return []string{
		l.Creator(),
		"-app", l.App,
		"-layers", l.Layers,
		"-platform", l.Platform,
		"-buildpacks", l.Buildpacks(),
		"-order", orderPath,
		"-build-config", path.Join(l.CNB, "build-config"),
		"-launcher", path.Join(lifecycle, "launcher"),
		"-launcher-sbom", lifecycle,
		"-run", path.Join(l.CNB, "run.toml"),
		"-run-image", p.RunImage,
		"-layout",
		"-layout-dir", l.LayoutDir(),
		"-uid", strconv.Itoa(p.Builder.UID),
		"-gid", strconv.Itoa(p.Builder.GID),
		"-no-color",
		OutputRef,
	}
}

// pickRunImage is the config's run image, else the builder's; either must
// be pinned by digest, so that the image tested is the image deployed.
func pickRunImage(configured string, b Builder) (string, error) {
	if configured != "" {
		return configured, nil
	}
	switch _, err := name.NewDigest(b.RunImage); {
	case b.RunImage == "":
		return "", fmt.Errorf("build.buildpacks.runImage: the builder %s names no run image: set build.buildpacks.runImage (REPO@sha256:…)", b.Ref)
	case err != nil:
		return "", fmt.Errorf("build.buildpacks.runImage: the builder's run image %s is not pinned by digest: set build.buildpacks.runImage to the run image your platform deploys on, pinned (REPO@sha256:…)", b.RunImage)
	}
	return b.RunImage, nil
}

// inject places the extra buildpacks around every group of the builder's
// order: those listed before config.FromBuilder before it, the others
// after it.
func inject(refs []string, b Builder, pkgs []Package) (Order, error) {
	if b.Order == nil {
		return nil, fmt.Errorf("build.buildpacks.buildpacks: the builder %s has no label %s: its order is unknown, so no buildpack can be added to it", b.Ref, LabelOrder)
	}
	byRef := map[string]Entry{}
	for _, pk := range pkgs {
		byRef[pk.Ref] = pk.Entry
	}
	var before, after []Entry
	seen := false
	for _, ref := range refs {
		if ref == config.FromBuilder {
			seen = true
			continue
		}
		e, ok := byRef[ref]
		if !ok {
			return nil, fmt.Errorf("build.buildpacks.buildpacks: %s was not read", ref)
		}
		if seen {
			after = append(after, e)
		} else {
			before = append(before, e)
		}
	}
	if !seen {
		before, after = nil, before
	}
	return Inject(b.Order, before, after), nil
}
