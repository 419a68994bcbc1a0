package buildpacks

import (
	"context"
	"fmt"

	"github.com/slipway-ci/slipway/pipeline/config"
)

// Engine is what a buildpacks build needs from a container engine. C is
// the engine's image (a *dagger.Container in the module).
type Engine[C any] interface {
	// Inspect reads the labels and environment variables named from the
	// config of ref's image for platform ("" for those it does not set).
	Inspect(ctx context.Context, ref, platform string, labels, env []string) (Image, error)
	// Run builds: in a container of p.Builder.Ref for p.Platform it
	// copies each of p.Packages' PackageDir into p.Layout.Buildpacks(), the
	// sources into p.Layout.App, creates p.Dirs, writes p.Files and
	// p.RunImage (an OCI tarball at p.Layout.RunTarball()), all owned by
	// p.Owner, then runs p.Steps in turn as p.Owner with p.Env, and loads
	// the image of the OCI tarball p.Output.
	Run(ctx context.Context, p *Plan) (C, error)
}

// Build builds cfg's image for platform through e: it reads the builder
// and the extra buildpacks, plans, and runs the plan. The plan is returned
// with the image (and alone, when running it failed).
func Build[C any](ctx context.Context, e Engine[C], cfg config.Buildpacks, platform string, l Layout) (C, *Plan, error) {
	var zero C
	img, err := e.Inspect(ctx, cfg.Builder, platform, BuilderLabels, BuilderEnv)
	if err != nil {
		return zero, nil, fmt.Errorf("reading the builder %s: %w", cfg.Builder, err)
	}
	b, err := ReadBuilder(cfg.Builder, img)
	if err != nil {
		return zero, nil, err
	}
	var pkgs []Package
	for _, ref := range cfg.Buildpacks {
		if ref == config.FromBuilder {
			continue
		}
		img, err := e.Inspect(ctx, ref, platform, []string{LabelPackage}, nil)
		if err != nil {
			return zero, nil, fmt.Errorf("reading the buildpack %s: %w", ref, err)
		}
		pkg, err := ReadPackage(ref, img.Labels[LabelPackage])
		if err != nil {
			return zero, nil, err
		}
		pkgs = append(pkgs, pkg)
	}
	p, err := NewPlan(cfg, platform, b, pkgs, l)
	if err != nil {
		return zero, nil, err
	}
	out, err := e.Run(ctx, p)
	if err != nil {
		return zero, p, fmt.Errorf("building with the builder %s: %w", cfg.Builder, err)
	}
	return out, p, nil
}
