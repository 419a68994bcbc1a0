package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// namedImage is one image of a run of several: its config (the build
// section is the image's own), its container on the first platform, and
// its other platforms once built.
type namedImage struct {
	cfg      *config.Config
	repo     string
	ctr      *dagger.Container
	variants []*dagger.Container
}

// firstImage is cfg with the build section of its first image: the
// candidate, the runner stages and the build function's default in a run
// of several images. A config of one image is returned as it is.
func firstImage(cfg *config.Config) *config.Config {
	return imageConfig(cfg, cfg.ImageList()[0])
}

// imageConfig is cfg with im's build section.
func imageConfig(cfg *config.Config, im config.Image) *config.Config {
	if len(cfg.Images) == 0 {
		return cfg
	}
	c := *cfg
	c.Build = im.Build
	return &c
}

// nameImages prepares each image of a run of several, unbuilt (cells and
// Build build them); the first is the candidate.
func (e *engine) nameImages(ctx context.Context) error {
	if len(e.plan.Images) < 2 {
		return nil
	}
	e.named = map[string]*namedImage{}
	for i, im := range e.cfg.Images {
		cfg := imageConfig(e.cfg, im)
		ctr := e.candidate // the first, made once by engine
		if i > 0 {
			var err error
			if ctr, err = e.m.image(ctx, cfg, cfg.Build.Platforms[0], nil); err != nil {
				return fmt.Errorf("image %s: %w", im.Name, err)
			}
		}
		e.named[im.Name] = &namedImage{cfg: cfg, repo: e.plan.Images[i].Repository, ctr: ctr}
	}
	return nil
}

// buildNamed builds, before any cell (flow.Builder), the images of a run
// of several that r names, every platform of each at once, and the
// runner stages: each once, timed, and any that does not build fails the
// run before anything is written.
func (e *engine) buildNamed(ctx context.Context, r flow.BuildRequest) (*report.Build, error) {
	var jobs []buildJob
	platforms := make([][]string, len(r.Names))
	for i, name := range r.Names {
		im, ok := e.named[name]
		if !ok {
			return nil, fmt.Errorf("no image %s in this run", name)
		}
		platforms[i] = im.cfg.Build.Platforms
		own, variants, err := e.platformJobs(ctx, im.cfg, platforms[i], im.ctr, name+" ")
		if err != nil {
			return nil, err
		}
		jobs, im.variants = append(jobs, own...), variants
	}
	images := len(jobs)
	stages, err := e.stageJobs(r.Stages)
	if err != nil {
		return nil, err
	}
	b, took, err := buildAll(ctx, append(jobs, stages...))
	if err != nil {
		return nil, err
	}
	b.Platforms = report.ImagePlatformsBuilt(r.Names, platforms, took[:images])
	return b, nil
}

// PublishImage pushes an image of a run of several (flow.ImagePublisher),
// every platform of it in one image index, stamped with the run's labels,
// and returns the digest reference the registry stored.
func (e *engine) PublishImage(ctx context.Context, name, ref string) (string, error) {
	im, ok := e.named[name]
	if !ok {
		return "", fmt.Errorf("no image %s in this run", name)
	}
	return e.publish(ctx, im.cfg, im.ctr, im.variants, im.repo, ref)
}

// registryOf is the registry host of ref when it is the registry of one
// of the run's images, where the module's credentials belong; "" for any
// other registry, which never gets them.
func (e *engine) registryOf(ref string) string {
	host := runplan.RegistryOf(ref)
	if slices.ContainsFunc(e.plan.Images, func(im runplan.Image) bool { return runplan.RegistryOf(im.Repository) == host }) {
		return host
	}
	return ""
}

// subject is what test tests: the image built from source, or the refs
// given (test --ref), one per image of the run. A baseline is the refs
// given only, and the plan keeps the cells they can run (flow.BaselineOf).
func (m *Slipway) subject(plan *runplan.Plan, refs []string, baseline bool) (flow.Subject, error) {
	pinned, err := plan.ImageRefs(refs)
	if err != nil {
		return flow.Subject{}, err
	}
	if baseline {
		s, cells, err := flow.BaselineOf(plan, pinned)
		if err != nil {
			return s, fmt.Errorf("--baseline: %w", err)
		}
		plan.Cells = cells
		return s, nil
	}
	s := flow.Subject{Role: flow.Candidate}
	for i, im := range plan.Images {
		t := flow.Target{Role: flow.Candidate, Ref: pinned[i]}
		if len(plan.Images) > 1 {
			t.Image = im.Name
		}
		s.Images = append(s.Images, t)
	}
	return s, nil
}

// anyEphemeral reports whether a ref of s is in the ephemeral registry.
func anyEphemeral(s flow.Subject) bool {
	return slices.ContainsFunc(s.Images, func(t flow.Target) bool { return runplan.IsEphemeral(t.Ref) })
}

// pinnedOnly reports whether every image of s is given by ref.
func pinnedOnly(s flow.Subject) bool {
	return !slices.ContainsFunc(s.Images, func(t flow.Target) bool { return t.Ref == "" })
}

// digestOfRef is the sha256:… part of a reference.
func digestOfRef(ref string) string {
	return ref[strings.LastIndex(ref, "@")+1:]
}

// buildConfigOf is cfg with the build section of its image named name
// ("" the first), for the build function.
func buildConfigOf(cfg *config.Config, name string) (*config.Config, error) {
	if name == "" {
		return firstImage(cfg), nil
	}
	for _, im := range cfg.ImageList() {
		if im.Name == name {
			return imageConfig(cfg, im), nil
		}
	}
	return nil, fmt.Errorf("--image %s: not an image of this config (%s)", name, strings.Join(cfg.ImageNames(), ", "))
}

// imageRepositories are the repositories of the config's images, as
// users know them (the ephemeral registry's as localhost:5000/…).
func imageRepositories(cfg *config.Config) []string {
	var out []string
	for _, im := range cfg.ImageList() {
		repo := im.Image
		if repo == "" {
			repo = runplan.EphemeralRepository
			if len(cfg.Images) > 0 {
				repo += "/" + im.Name
			}
		}
		out = append(out, repo)
	}
	return out
}

// firstRepository is the repository of the config's first image.
func firstRepository(cfg *config.Config) string { return imageRepositories(cfg)[0] }

// pruneImages plans (and with confirm applies) retention for each image's
// repository in turn: retention runs per repository. The reports are
// joined: the JSON a list of each repository's plan, the table one
// section per repository. The first failure stops it, with what was done.
func (m *Slipway) pruneImages(ctx context.Context, cfg *config.Config, confirm bool, inUse string) (*PruneReport, error) {
	var jsons, tables []string
	for _, repo := range imageRepositories(cfg) {
		r, err := m.prune(ctx, cfg, repo, confirm, inUse)
		if err != nil {
			return nil, fmt.Errorf("%w\n\n%s", err, strings.Join(tables, "\n"))
		}
		jsons = append(jsons, strings.TrimSpace(r.JSONText))
		tables = append(tables, "# "+repo+"\n"+r.MarkdownText)
	}
	return &PruneReport{JSONText: "[\n" + strings.Join(jsons, ",\n") + "\n]\n", MarkdownText: strings.Join(tables, "\n")}, nil
}

// rollbackGroup moves the floating tag of every image of cfg back
// together (registry.RollbackAll), as req says for each; the result is
// the group's, its fields the first image's.
func (m *Slipway) rollbackGroup(ctx context.Context, cfg *config.Config, req registry.RollbackRequest) (*RollbackResult, error) {
	if req.To != "" {
		return nil, fmt.Errorf("--to is one image's digest: give --repository (one of %s) with it, or --steps for the group", strings.Join(imageRepositories(cfg), ", "))
	}
	repos := imageRepositories(cfg)
	client, host, err := m.registryFor(ctx, cfg, repos[0])
	if err != nil {
		return nil, err
	}
	var reqs []registry.RollbackRequest
	for _, r := range repos {
		if runplan.IsEphemeral(r) != (host != "") {
			return nil, fmt.Errorf("the images' repositories (%s) are not all in the ephemeral registry: roll back each with --repository", strings.Join(repos, ", "))
		}
		repo, err := client.ParseRepository(runplan.EphemeralRef(r, host))
		if err != nil {
			return nil, fmt.Errorf("repository %q: %w", r, err)
		}
		one := req
		one.Repo = repo
		reqs = append(reqs, one)
	}
	res, err := client.RollbackAll(ctx, reqs)
	if err != nil {
		return nil, runplan.ExplainUnreachable(repos[0], runplan.ForUserErr(err, host))
	}
	j, err := res.JSON()
	if err != nil {
		return nil, err
	}
	first := res.Results[0]
	return &RollbackResult{
		From: first.From, To: first.To, Steps: first.Steps, Action: string(first.Action), Revision: first.Target.Revision, DryRun: first.DryRun,
		JSONText: runplan.ForUser(j, host), MarkdownText: runplan.ForUser(res.Markdown(), host),
	}, nil
}
