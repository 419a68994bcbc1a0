package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/slipway-tests/internal/dagger"
)

// Buildpacks builds the sample app through the CNB lifecycle, and tests it.
//
// The builder is assembled in the engine (testdata/buildpacks/Dockerfile:
// lifecycle v0.20.5 compiled from the Go module proxy, the test shell
// buildpack, busybox) and promoted by Slipway into the ephemeral registry,
// with a buildpackage the platform adds; the app's build.buildpacks names
// both by digest, busybox is the run image.
//
// +check
// +cache="session"
func (t *SlipwayTests) Buildpacks(ctx context.Context) error {
	s, err := t.newScenario(ctx, "buildpacks")
	if err != nil {
		return err
	}
	builder, err := s.promoteImage(ctx, t.GoImage, "builder", "[/cnb/lifecycle/lifecycle, -version]")
	if err != nil {
		return err
	}
	stamp, err := s.promoteImage(ctx, t.GoImage, "stamp", "[test, -x, /cnb/buildpacks/slipway_stamp/0.0.1/bin/build]")
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "build:\n  platforms: [%s]\n  context: app\n  buildpacks:\n", s.platform)
	fmt.Fprintf(&b, "    builder: %q\n    buildpacks: [%q, from=builder]\n", repository+"@"+builder, repository+"@"+stamp)
	fmt.Fprintf(&b, "    env: {BP_GREETING: hello from the platform, BP_PLATFORM: slipway}\n    runImage: %q\n", s.base)
	if s.registry != "" {
		fmt.Fprintf(&b, "ephemeral:\n  image: %q\n", s.registry)
	}
	b.WriteString("test:\n  retries: 0\n  suites:\n    - name: greeting\n      run: [/cnb/lifecycle/launcher, --, sh, -c, 'cat \"$GREETING_FILE\" hello.txt']\n")
	b.WriteString("scan:\n  mode: \"off\"\n")
	m := s.slipwaySource("app", b.String())

	ctr := m.Build()
	if err := expectLabel(ctx, ctr, "org.opencontainers.image.revision", s.revision("app")); err != nil {
		return err
	}
	if err := expectFile(ctx, ctr, "/workspace/hello.txt", "hello from the sample app\n"); err != nil {
		return err
	}
	if err := expectFile(ctx, ctr, "/layers/slipway_stamp/platform/stamp.txt", "built by slipway\n"); err != nil {
		return fmt.Errorf("the injected buildpack: %w", err)
	}
	entrypoint, err := ctr.Entrypoint(ctx)
	if err != nil {
		return err
	}
	if strings.Join(entrypoint, " ") != "/cnb/process/web" {
		return fmt.Errorf("entrypoint %q, want the default process /cnb/process/web", entrypoint)
	}
	meta, err := ctr.Label(ctx, "io.buildpacks.build.metadata")
	if err != nil {
		return err
	}
	if i, j := strings.Index(meta, `"slipway/stamp"`), strings.Index(meta, `"slipway/shell"`); i < 0 || j < i {
		return fmt.Errorf("io.buildpacks.build.metadata %s: want slipway/stamp, then slipway/shell", meta)
	}

	rep := m.Test()
	cells, err := rep.Cells(ctx)
	if err != nil {
		return err
	}
	if err := expectCells(ctx, cells, []cellWant{{name: "greeting", status: "pass", exitCode: 0, attempts: 1}}); err != nil {
		return fmt.Errorf("test of the buildpacks image: %w", err)
	}
	return nil
}

// promoteImage builds a stage of testdata/buildpacks/Dockerfile, tests it
// with one command, promotes it into the ephemeral registry and returns
// its digest.
func (s scenario) promoteImage(ctx context.Context, goImage, target, run string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "build:\n  platforms: [%s]\n  target: %s\n  args: {BASE: %q", s.platform, target, s.base)
	if goImage != "" {
		fmt.Fprintf(&b, ", GO_IMAGE: %q", goImage)
	}
	b.WriteString("}\n")
	if s.registry != "" {
		fmt.Fprintf(&b, "ephemeral:\n  image: %q\n", s.registry)
	}
	fmt.Fprintf(&b, "test:\n  retries: 0\n  suites: [{name: %s, run: %s}]\n", target, run)
	fmt.Fprintf(&b, "gate:\n  baseline: %s-%s\n", s.ns, target)
	fmt.Fprintf(&b, "tags:\n  immutable: [\"sha-{sha7}\"]\n  floating: [%s-%s]\n", s.ns, target)
	b.WriteString("scan:\n  mode: \"off\"\n")
	p, err := readPromotion(ctx, s.slipwaySource(target, b.String()).Promote())
	if err != nil {
		return "", fmt.Errorf("promoting the %s: %w", target, err)
	}
	if !p.Decision.Pass {
		return "", fmt.Errorf("the %s did not pass its check", target)
	}
	return p.expectPublished(s, target)
}

// slipwaySource is the module on testdata/buildpacks with a slipway.yaml.
func (s scenario) slipwaySource(step, config string) *dagger.Slipway {
	return dag.Slipway(dagger.SlipwayOpts{
		Source:    dag.CurrentModule().Source().Directory("testdata/buildpacks").WithNewFile("slipway.yaml", config),
		Revision:  s.revision(step),
		RunID:     s.runID(step),
		SourceURL: sourceURL,
	})
}
