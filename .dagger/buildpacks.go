package main

import (
	"context"
	"strings"

	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/buildpacks"
	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// buildpacksImage builds the config's image with its buildpacks builder
// for one platform, without labels: pipeline/buildpacks plans it, the
// engine runs the lifecycle in the builder and loads the OCI image it
// exports.
func (m *Slipway) buildpacksImage(ctx context.Context, cfg *config.Config, platform string) (*dagger.Container, error) {
	ctr, _, err := buildpacks.Build(ctx, &lifecycleEngine{m: m, cfg: cfg}, cfg.Build.Buildpacks, platform, buildpacks.DefaultLayout())
	return ctr, err
}

// lifecycleEngine is buildpacks.Engine on Dagger containers.
type lifecycleEngine struct {
	m   *Slipway
	cfg *config.Config
	// registry is the ephemeral registry, started for the first image
	// pulled from it (a builder Slipway promoted there).
	registry *dagger.Service
}

// from pulls ref for platform: from the ephemeral registry for its refs
// (localhost:5000/…), else with the module's registry credentials where
// ref lives in the registry of the config's image.
func (e *lifecycleEngine) from(ctx context.Context, ref, platform string) (*dagger.Container, error) {
	ctr := dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(platform)})
	if runplan.IsEphemeral(ref) {
		if e.registry == nil {
			svc, _, err := e.m.ephemeralRegistry(ctx, e.cfg)
			if err != nil {
				return nil, err
			}
			e.registry = svc
		}
		return fromEphemeral(ctr, ref, e.registry), nil
	}
	if e.m.RegistryPassword != nil && e.cfg.Image != "" && runplan.RegistryOf(ref) == runplan.RegistryOf(e.cfg.Image) {
		ctr = ctr.WithRegistryAuth(runplan.RegistryOf(ref), e.m.RegistryUsername, e.m.RegistryPassword)
	}
	return ctr.From(ref), nil
}

// Inspect reads labels and environment variables of ref's image config.
func (e *lifecycleEngine) Inspect(ctx context.Context, ref, platform string, labels, env []string) (buildpacks.Image, error) {
	ctr, err := e.from(ctx, ref, platform)
	if err != nil {
		return buildpacks.Image{}, err
	}
	img := buildpacks.Image{Labels: map[string]string{}, Env: map[string]string{}}
	for _, l := range labels {
		v, err := ctr.Label(ctx, l)
		if err != nil {
			return img, execError(err)
		}
		img.Labels[l] = v
	}
	for _, name := range env {
		v, err := ctr.EnvVariable(ctx, name)
		if err != nil {
			return img, execError(err)
		}
		img.Env[name] = v
	}
	return img, nil
}

// Run places the plan's files in the builder, runs its steps as the
// builder's user, and imports the OCI tarball the last one writes. The
// steps run when the image is first used (Build syncs it).
func (e *lifecycleEngine) Run(ctx context.Context, p *buildpacks.Plan) (*dagger.Container, error) {
	l := p.Layout
	ctr, err := e.from(ctx, p.Builder.Ref, p.Platform)
	if err != nil {
		return nil, err
	}
	for _, pkg := range p.Packages {
		pc, err := e.from(ctx, pkg.Ref, p.Platform)
		if err != nil {
			return nil, err
		}
		ctr = ctr.WithDirectory(l.Buildpacks(), pc.Directory(buildpacks.PackageDir))
	}
	run, err := e.from(ctx, p.RunImage, p.Platform)
	if err != nil {
		return nil, err
	}
	own := dagger.ContainerWithDirectoryOpts{Owner: p.Owner}
	ctr = ctr.WithDirectory(l.App, e.m.Source.Directory(e.cfg.Build.Context), own)
	for _, d := range p.Dirs {
		ctr = ctr.WithDirectory(d, dag.Directory(), own)
	}
	for _, f := range p.Files {
		ctr = ctr.WithNewFile(f.Path, f.Contents, dagger.ContainerWithNewFileOpts{Owner: p.Owner})
	}
	ctr = ctr.WithFile(l.RunTarball(), run.AsTarball(), dagger.ContainerWithFileOpts{Owner: p.Owner}).
		WithUser(p.Owner)
	for _, kv := range p.Env {
		k, v, _ := strings.Cut(kv, "=")
		ctr = ctr.WithEnvVariable(k, v)
	}
	for _, argv := range p.Steps {
		ctr = ctr.WithExec(argv)
	}
	return dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(p.Platform)}).Import(ctr.File(p.Output)), nil
}
