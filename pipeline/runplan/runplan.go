// Package runplan joins a config and a git context into what one run will
// do: the tags and labels it writes, the baseline it compares against, and
// the test cells it runs. The CLI's `plan` and `tags` verbs and the Dagger
// module both start here, so they cannot disagree.
package runplan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/registry"
)

// EphemeralRepository receives promoted images when the config names no
// image: the module runs a registry service inside the engine. Users,
// reports, verify and prune know it by this name; the engine reaches the
// service as EphemeralEngineHost, the registry client at the service's
// endpoint (EphemeralRef).
const EphemeralRepository = "localhost:5000/slipway"

// EphemeralEnginePort is the port the ephemeral registry service listens
// on, and EphemeralEngineHost the address the engine pushes to and pulls
// from it at (the RegistryService option of Container.publish and from).
//
// The engine speaks plain HTTP to a localhost address with no engine
// configuration, and sends the host to the service only where its config
// lists no setting for that address: an engine.json entry for a registry
// the user runs on localhost:5000 (a common one) wraps the engine's
// registry transport, and the push then lands in the user's registry
// instead (DESIGN.md §9). So the engine never addresses the service as
// localhost:5000, but on a port no such setting is likely to name; a push
// that lands elsewhere all the same is caught after it (flow.Promote
// checks the digest in the service).
const (
	EphemeralEnginePort = 45913
	EphemeralEngineHost = "localhost:45913"
)

// ephemeralHost is the host users know the ephemeral registry by.
func ephemeralHost() string {
	host, _, _ := strings.Cut(EphemeralRepository, "/")
	return host
}

// EphemeralRef rewrites a ref into the ephemeral registry (as users or the
// engine write it) to the address a registry client reaches the same
// service at. Other refs are returned as they are.
func EphemeralRef(ref, endpoint string) string {
	if endpoint == "" {
		return ref
	}
	for _, host := range []string{ephemeralHost(), EphemeralEngineHost} {
		if rest, ok := strings.CutPrefix(ref, host+"/"); ok {
			return endpoint + "/" + rest
		}
	}
	return ref
}

// EngineRef rewrites a ref into the ephemeral registry, as users write it,
// to the address the engine reaches the service at (EphemeralEngineHost).
// Other refs are returned as they are.
func EngineRef(ref string) string {
	if rest, ok := strings.CutPrefix(ref, ephemeralHost()+"/"); ok {
		return EphemeralEngineHost + "/" + rest
	}
	return ref
}

// IsEphemeral reports whether ref is in the ephemeral registry, as users
// or the engine write it.
func IsEphemeral(ref string) bool {
	return strings.HasPrefix(ref, ephemeralHost()+"/") || strings.HasPrefix(ref, EphemeralEngineHost+"/")
}

// Plan is what a run will do.
type Plan struct {
	Context gitctx.Context `json:"context"`
	// Repository receives the promoted image (the config's image, or
	// EphemeralRepository).
	Repository string `json:"repository"`
	// Ephemeral is true when Repository is the engine-local registry.
	Ephemeral bool `json:"ephemeral"`
	// Baseline is the tag whose digest is the previous good image
	// (Repository:gate.baseline); it is resolved to a digest once, at the
	// start of a promotion.
	Baseline string            `json:"baseline"`
	Tags     []gitctx.Tag      `json:"tags"`
	Labels   map[string]string `json:"labels"`
	Gate     config.Gate       `json:"gate"`
	// Images are the images the run builds, in order, each with its own
	// repository and baseline: the images section, else one image named
	// app whose repository and baseline are Repository and Baseline (the
	// first image's, in any case).
	Images []Image       `json:"images"`
	Shard  string        `json:"shard,omitempty"`
	Cells  []matrix.Cell `json:"cells"`
}

// New makes the plan of a run. shard is "" for every cell, or "i/n".
// now stamps the created label and fills {date}.
func New(cfg *config.Config, c gitctx.Context, now time.Time, shard string) (*Plan, error) {
	tags, err := gitctx.Tags(c, cfg.Tags.Immutable, cfg.Tags.Floating, now)
	if err != nil {
		return nil, err
	}
	cells, err := matrix.Cells(cfg.Test)
	if err != nil {
		return nil, fmt.Errorf("test matrix: %w", err)
	}
	if cfg.Smoke.Runs(len(cfg.Test.Suites)) {
		cells = append(cells, smokeCells(cfg)...)
	}
	cells = matrix.OnPlatforms(cells, cfg.ImageList()[0].Build.Platforms)
	for i := range cells {
		// The first image's stage is one stage, named or not.
		if cells[i].Runner.Build.Image == cfg.ImageNames()[0] {
			cells[i].Runner.Build.Image = ""
		}
	}
	if shard != "" {
		s, err := matrix.ParseShard(shard)
		if err != nil {
			return nil, err
		}
		if cells, err = matrix.Shard(cells, s.Index, s.Count); err != nil {
			return nil, err
		}
	}
	p := &Plan{
		Context:    c,
		Repository: cfg.Image,
		Tags:       tags,
		Labels:     gitctx.Labels(c, now),
		Gate:       cfg.Gate,
		Shard:      shard,
		Cells:      cells,
	}
	p.Images = imagesOf(cfg)
	for _, im := range p.Images {
		p.Ephemeral = p.Ephemeral || im.Ephemeral
	}
	p.Repository, p.Baseline = p.Images[0].Repository, p.Images[0].Baseline
	return p, nil
}

// PlatformIndex is the index of a cell's platform in build.platforms: 0
// for "" (the first), -1 for one that is not built.
func PlatformIndex(platforms []string, platform string) int {
	if platform == "" {
		return 0
	}
	return slices.Index(platforms, platform)
}

// OnePlatform keeps the plan's cells of the first platform only: for an
// image under test that has no other (a container given to test).
func (p *Plan) OnePlatform() {
	p.Cells = slices.DeleteFunc(p.Cells, func(c matrix.Cell) bool { return c.Platform != "" })
}

// Immutable returns the names of the immutable tags, in order.
func (p *Plan) Immutable() []string { return p.names(true) }

// Floating returns the names of the tags that move (floating tags and the
// semver aliases), in order.
func (p *Plan) Floating() []string { return p.names(false) }

// MovesFloating reports whether a promotion of this run may move floating
// tags. A pull request's image is tested and published under its immutable
// tags, but it is not merged code: it never moves stable or latest.
func (p *Plan) MovesFloating() bool { return p.Context.PR == 0 }

func (p *Plan) names(immutable bool) []string {
	var out []string
	for _, t := range p.Tags {
		if t.Immutable == immutable {
			out = append(out, t.Name)
		}
	}
	return out
}

// PublishRef is where the engine publishes the candidate, once, before
// the registry promotion writes its tags by digest: the repository's
// staging tag registry.PublishTag, never an immutable tag (an engine's
// publish overwrites). A run needs an immutable tag all the same.
func (p *Plan) PublishRef() (string, error) {
	if len(p.Immutable()) == 0 {
		return "", fmt.Errorf("no immutable tag for this run: give a revision (--revision) so sha-{sha7} can be written, or add a template to tags.immutable")
	}
	return p.Repository + ":" + registry.PublishTag, nil
}

// RegistryHost is the registry of Repository (e.g. ghcr.io), for credentials.
func (p *Plan) RegistryHost() string { return RegistryOf(p.Repository) }

// RegistryOf is the registry host of a repository or image reference
// (docker.io for "acme/app"), to tell which credentials it needs.
func RegistryOf(ref string) string {
	host, _, _ := strings.Cut(ref, "/")
	if !strings.Contains(ref, "/") || (!strings.ContainsAny(host, ".:") && host != "localhost") {
		return name.DefaultRegistry // "acme/app" is Docker Hub
	}
	return host
}

// BuildArg is one build argument.
type BuildArg struct{ Name, Value string }

// BuildArgs merges the config's build arguments with KEY=VALUE overrides
// (the module's --build-arg), sorted by name so the build's cache key is
// stable.
func BuildArgs(cfg map[string]string, overrides []string) ([]BuildArg, error) {
	merged := maps.Clone(cfg)
	if merged == nil {
		merged = map[string]string{}
	}
	for _, kv := range overrides {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("build arg %q: want KEY=VALUE", kv)
		}
		merged[k] = v
	}
	out := make([]BuildArg, 0, len(merged))
	for _, k := range slices.Sorted(maps.Keys(merged)) {
		out = append(out, BuildArg{k, merged[k]})
	}
	return out, nil
}

// PinnedRef checks that ref names an image by digest (repo@sha256:…): a
// test of a tag would test whatever the tag points at by then.
func PinnedRef(ref string) (string, error) {
	d, err := name.NewDigest(ref)
	if err != nil {
		return "", fmt.Errorf("ref %q: want an image pinned by digest (repo@sha256:…): %w", ref, err)
	}
	return d.String(), nil
}
