// Slipway's end-to-end checks: each calls the slipway module on a sample app
// (testdata/app) the way a user would, and asserts what comes back: labels,
// cells and cases, gate decisions, tags and digests.
//
// Run them wherever a Dagger engine runs:
//
//	dagger check -m .dagger/tests
//
// Every image they pull can be replaced for engines without Docker Hub: in
// .dagger/tests/.env, baseImage=REF@sha256:… (a busybox-like image: sh,
// echo, mkdir, cat, touch, sleep, test, httpd, wget, tar),
// registryImage=REF@sha256:… (a registry:2 image; the config's
// ephemeral.image) and goImage=REF@sha256:… (a golang image with go 1.23
// or newer, for the Buildpacks check). The keys are the constructor's
// argument names: the engine matches them ignoring case, so BASEIMAGE=
// works too, but BASE_IMAGE= does not.
//
// Promotions go to the ephemeral registry the module starts when the
// config names no image. Its storage is a cache volume of the engine, so it
// outlives a run and is shared by the checks running at the same time:
// every check names its tags after the moment it runs and its scenario, and
// never sees the tags of another check or of an earlier run.
package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"dagger/slipway-tests/internal/dagger"
)

// SlipwayTests holds the end-to-end checks of the slipway module.
type SlipwayTests struct {
	// +private
	BaseImage string
	// +private
	RegistryImage string
	// +private
	GoImage string
	// +private
	HostRegistry string
}

// New creates the checks, with the images they pull.
func New(
	// Base image of the sample app, pinned by digest.
	// Default: busybox 1.36.1 from Docker Hub, as testdata/app/Dockerfile pins it.
	// +optional
	baseImage string,
	// Registry image of the ephemeral registry, pinned by digest.
	// Default: the slipway module's own (registry 2.8.3 from Docker Hub).
	// +optional
	registryImage string,
	// Go image that compiles the CNB lifecycle of the Buildpacks check, pinned by digest.
	// Default: golang 1.24-alpine from Docker Hub, as testdata/buildpacks/Dockerfile pins it.
	// +optional
	goImage string,
	// A registry the engine's host serves at localhost:5000, as containers reach it (host:port).
	// Engine configs often list localhost:5000 (plain HTTP, a mirror): given, VerifyPromoted
	// checks that a promotion into the ephemeral registry wrote nothing there.
	// +optional
	hostRegistry string,
) *SlipwayTests {
	if baseImage == "" {
		baseImage = defaultBaseImage
	}
	return &SlipwayTests{BaseImage: baseImage, RegistryImage: registryImage, GoImage: goImage, HostRegistry: hostRegistry}
}

const (
	// repository is where the ephemeral registry keeps promoted images.
	repository = "localhost:5000/slipway"
	sourceURL  = "https://github.com/acme/app"
	// defaultBaseImage is the sample app's base image (the default BASE of
	// testdata/app/Dockerfile).
	defaultBaseImage = "docker.io/library/busybox:1.36.1@sha256:73aaf090f3d85aa34ee199857f03fa3a95c8ede2ffd4cc2cdb5b94e566b11662"
)

// Build builds the sample app with the run's OCI labels.
//
// A build argument given to build changes the image, and the same build
// twice is the same image.
//
// +check
// +cache="session"
func (t *SlipwayTests) Build(ctx context.Context) error {
	s, err := t.newScenario(ctx, "build")
	if err != nil {
		return err
	}
	m := s.slipway("build", "base", "unit")
	ctr := m.Build()

	for label, want := range map[string]string{
		"org.opencontainers.image.revision": s.revision("build"),
		"org.opencontainers.image.source":   sourceURL,
		"dev.slipway.run-id":                s.runID("build"),
	} {
		if err := expectLabel(ctx, ctr, label, want); err != nil {
			return err
		}
	}
	created, err := ctr.Label(ctx, "org.opencontainers.image.created")
	if err != nil {
		return err
	}
	if _, err := time.Parse(time.RFC3339, created); err != nil {
		return fmt.Errorf("label org.opencontainers.image.created = %q, want RFC 3339: %w", created, err)
	}

	if err := expectFile(ctx, ctr, "/app/variant", "base\n"); err != nil {
		return fmt.Errorf("config's build args: %w", err)
	}
	fixed := m.Build(dagger.SlipwayBuildOpts{BuildArg: []string{"VARIANT=fixed"}})
	if err := expectFile(ctx, fixed, "/app/variant", "fixed\n"); err != nil {
		return fmt.Errorf("--build-arg VARIANT=fixed: %w", err)
	}

	first, err := ctr.Rootfs().Digest(ctx)
	if err != nil {
		return err
	}
	again, err := m.Build().Rootfs().Digest(ctx)
	if err != nil {
		return err
	}
	other, err := fixed.Rootfs().Digest(ctx)
	if err != nil {
		return err
	}
	if first != again {
		return fmt.Errorf("the same build twice gave two root filesystems: %s and %s", first, again)
	}
	if first == other {
		return fmt.Errorf("VARIANT=fixed gave the same root filesystem %s as the default", first)
	}
	return nil
}

// Test runs a passing suite and a failing one on the sample app.
//
// The report has a passing cell and a failing one, with the cases their
// JUnit files hold, and test itself does not fail on a failing test.
//
// +check
// +cache="session"
func (t *SlipwayTests) Test(ctx context.Context) error {
	s, err := t.newScenario(ctx, "test")
	if err != nil {
		return err
	}
	rep := s.slipway("test", "base", "unit", "e2e").Test()

	cells, err := rep.Cells(ctx)
	if err != nil {
		return fmt.Errorf("test must report failures, not fail: %w", err)
	}
	want := []cellWant{
		{name: "unit", status: "pass", exitCode: 0, attempts: 1},
		{name: "e2e", status: "fail", exitCode: 1, attempts: 1},
	}
	if err := expectCells(ctx, cells, want); err != nil {
		return err
	}
	if n, err := rep.Tests(ctx); err != nil || n != 4 {
		return fmt.Errorf("tests = %d (err %v), want the 4 cases of the two JUnit files", n, err)
	}
	headline, err := rep.Headline(ctx)
	if err != nil {
		return err
	}
	if !strings.Contains(headline, "1 of 2 cells did not pass") {
		return fmt.Errorf("headline %q, want it to say 1 of 2 cells did not pass", headline)
	}

	text, err := rep.JSON(ctx)
	if err != nil {
		return err
	}
	var r testReport
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return fmt.Errorf("report JSON: %w", err)
	}
	for _, c := range []caseWant{
		{cell: "unit", name: "parses-config", status: "pass"},
		{cell: "unit", name: "renders-page", status: "pass"},
		{cell: "e2e", name: "login", status: "pass"},
		{cell: "e2e", name: "checkout", status: "fail", message: "cart total 0, want 42"},
	} {
		if err := r.expectCase(c); err != nil {
			return err
		}
	}

	junit, err := rep.Junit().Contents(ctx)
	if err != nil {
		return err
	}
	for _, want := range []string{`name="checkout"`, "<failure", "cart total 0, want 42", `name="parses-config"`} {
		if !strings.Contains(junit, want) {
			return fmt.Errorf("merged JUnit lacks %q:\n%s", want, junit)
		}
	}
	return nil
}

// TestCached runs the same commit's tests twice, as two CI runs would.
//
// The second run's cells come from the engine's cache: the run's labels
// (created, run id) are stamped at publish, not on the image the cells run
// on. The failing case's message carries a nonce the sample app draws on
// every real run, so the two reports must hold the same one.
//
// +check
// +cache="session"
func (t *SlipwayTests) TestCached(ctx context.Context) error {
	s, err := t.newScenario(ctx, "cached")
	if err != nil {
		return err
	}
	var messages []string
	for _, run := range []string{"first", "second"} {
		rep := dag.Slipway(dagger.SlipwayOpts{
			Source:    sampleApp(s.config("base", []string{"e2e"})),
			Revision:  s.revision("cached"),
			RunID:     s.runID(run),
			SourceURL: sourceURL,
		}).Test()
		text, err := rep.JSON(ctx)
		if err != nil {
			return err
		}
		var r testReport
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return fmt.Errorf("report JSON: %w", err)
		}
		msg := ""
		for _, c := range r.Cells {
			for _, k := range c.Cases {
				if c.ID == "e2e" && k.Name == "checkout" {
					msg = k.Message
				}
			}
		}
		if !strings.Contains(msg, "(run ") {
			return fmt.Errorf("%s run: e2e checkout message %q, want the sample app's nonce", run, msg)
		}
		messages = append(messages, msg)
	}
	if messages[0] != messages[1] {
		return fmt.Errorf("the second run of an unchanged commit ran its cells again (%q, then %q): want them from the engine's cache", messages[0], messages[1])
	}
	return nil
}

// EphemeralPerProject shows two projects never share an ephemeral registry.
//
// Project A promotes a baseline under the scenario's floating tag; project
// B (another --source-url, the same config and tag) then finds no baseline
// and is judged strict, while A's next run finds its own.
//
// +check
// +cache="session"
func (t *SlipwayTests) EphemeralPerProject(ctx context.Context) error {
	s, err := t.newScenario(ctx, "projects")
	if err != nil {
		return err
	}
	digest, err := s.promoteBaseline(ctx)
	if err != nil {
		return err
	}
	for _, tt := range []struct {
		sourceURL, mode, baseline string
	}{
		{"https://github.com/acme/other", "strict", ""},
		{sourceURL, "no-regression", digest},
	} {
		p, err := readPromotion(ctx, dag.Slipway(dagger.SlipwayOpts{
			Source:    sampleApp(s.config("base", []string{"unit"})),
			Revision:  s.revision("projects"),
			RunID:     s.runID("projects"),
			SourceURL: tt.sourceURL,
		}).Promote(dagger.SlipwayPromoteOpts{DryRun: true}))
		if err != nil {
			return err
		}
		if p.Decision.Mode != tt.mode || digestOf(p.BaselineDigest) != tt.baseline {
			return fmt.Errorf("--source-url %s: mode %q, baseline %q; want %q and %q", tt.sourceURL, p.Decision.Mode, p.BaselineDigest, tt.mode, tt.baseline)
		}
	}
	return nil
}

// PromoteBetter promotes a candidate that fixes the baseline's failing case.
//
// The gate passes and says so, the candidate is published once, the
// floating tag moves from the baseline's digest to the candidate's, and
// the promoted digest, pulled back by digest, passes every cell.
//
// +check
// +cache="session"
func (t *SlipwayTests) PromoteBetter(ctx context.Context) error {
	s, _, cand, err := t.promotePassing(ctx, "better", "fixed", "fixed")
	if err != nil {
		return err
	}

	// Test many: the promoted image itself, pinned by digest.
	rep := s.slipway("retest", "fixed", "unit", "e2e").Test(dagger.SlipwayTestOpts{Ref: []string{repository + "@" + cand}})
	cells, err := rep.Cells(ctx)
	if err != nil {
		return err
	}
	if err := expectCells(ctx, cells, []cellWant{
		{name: "unit", status: "pass", attempts: 1},
		{name: "e2e", status: "pass", attempts: 1},
	}); err != nil {
		return fmt.Errorf("the promoted digest: %w", err)
	}
	text, err := rep.JSON(ctx)
	if err != nil {
		return err
	}
	var r testReport
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return fmt.Errorf("report JSON: %w", err)
	}
	if r.Digest != cand {
		return fmt.Errorf("test --ref reports digest %q, want the promoted %s", r.Digest, cand)
	}
	return nil
}

// PromoteEqual promotes a candidate that fails the same case as the baseline.
//
// A known failure: the gate passes, reports it, and the floating tag moves
// to the candidate.
//
// +check
// +cache="session"
func (t *SlipwayTests) PromoteEqual(ctx context.Context) error {
	_, p, _, err := t.promotePassing(ctx, "equal", "base", "known-failure")
	if err != nil {
		return err
	}
	for _, r := range p.Decision.Reasons {
		if r.Blocking {
			return fmt.Errorf("blocking reason %s %s %s in a passing decision", r.Kind, r.Cell, r.Case)
		}
	}
	return nil
}

// promotePassing promotes the sample app's candidate over a fresh
// baseline in scenario name, and expects a no-regression pass that
// reports kind for the e2e checkout case and moves the floating tag to
// the candidate, whose digest it returns.
func (t *SlipwayTests) promotePassing(ctx context.Context, name, candidate, kind string) (scenario, *promotion, string, error) {
	s, err := t.newScenario(ctx, name)
	if err != nil {
		return s, nil, "", err
	}
	baseline, err := s.promoteBaseline(ctx)
	if err != nil {
		return s, nil, "", err
	}
	p, err := s.promoteCandidate(ctx, candidate)
	if err != nil {
		return s, nil, "", err
	}
	cand, err := p.expectPromoted(s, baseline)
	if err != nil {
		return s, p, "", err
	}
	if err := p.expectReason(kind, "e2e", "checkout", false); err != nil {
		return s, p, "", err
	}
	return s, p, cand, s.expectStable(ctx, cand)
}

// PromoteWorse promotes a candidate that breaks a case the baseline passes.
//
// Promote fails with the gate's summary, and the floating tag stays on the
// baseline's digest.
//
// +check
// +cache="session"
func (t *SlipwayTests) PromoteWorse(ctx context.Context) error {
	s, err := t.newScenario(ctx, "worse")
	if err != nil {
		return err
	}
	baseline, err := s.promoteBaseline(ctx)
	if err != nil {
		return err
	}
	_, err = s.promoteCandidate(ctx, "broken")
	if err == nil {
		return errors.New("promote passed a candidate whose e2e login case regressed")
	}
	for _, want := range []string{"the gate blocked the promotion", "regression", "login", "promote --no-fail markdown"} {
		if !strings.Contains(err.Error(), want) {
			return fmt.Errorf("promote failed without saying %q: %w", want, err)
		}
	}
	// The error is the blocking reasons, not the whole report: the CLI
	// prints it twice, on stderr.
	if strings.Contains(err.Error(), "### Candidate tests") {
		return fmt.Errorf("promote failed with the whole report in its error: %w", err)
	}
	// With --no-fail the same blocked promotion is a result: its files
	// hold the summary once and the decision a CI wrapper fails on.
	files := s.slipway("candidate-broken", "broken", "unit", "e2e").Promote(dagger.SlipwayPromoteOpts{NoFail: true}).Files()
	summary, err := files.File("summary.md").Contents(ctx)
	if err != nil {
		return fmt.Errorf("promote --no-fail files: %w", err)
	}
	if !strings.Contains(summary, "Gate blocked") || strings.Count(summary, "## ❌ Gate blocked") != 1 {
		return fmt.Errorf("promote --no-fail: summary.md does not say once that the gate blocked:\n%s", summary)
	}
	text, err := files.File("promotion.json").Contents(ctx)
	if err != nil {
		return err
	}
	var p promotion
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		return fmt.Errorf("promotion.json: %w", err)
	}
	if p.Decision.Pass {
		return errors.New("promote --no-fail: promotion.json says pass for a blocked candidate")
	}
	return s.expectStable(ctx, baseline)
}

// Hints checks that Slipway's advice around an engine error reaches the user.
//
// An ephemeral registry image the engine cannot pull fails a promotion
// with the engine's error and the advice to set ephemeral.image to a
// mirror (the Go SDK would pass on the engine's error alone).
//
// +check
// +cache="session"
func (t *SlipwayTests) Hints(ctx context.Context) error {
	s, err := t.newScenario(ctx, "hints")
	if err != nil {
		return err
	}
	repo, _, _ := strings.Cut(s.base, "@")
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i] // the tag, not a registry's port
	}
	s.registry = repo + "@sha256:" + strings.Repeat("0", 64) // no such image
	_, err = s.slipway("hints", "base", "unit").Promote(dagger.SlipwayPromoteOpts{DryRun: true}).Decision(ctx)
	if err == nil || !strings.Contains(err.Error(), "set ephemeral.image to a mirror") || !strings.Contains(err.Error(), s.registry) {
		return fmt.Errorf("promote with an ephemeral.image the engine cannot pull: err = %v, want the engine's error with the advice to set ephemeral.image", err)
	}
	return nil
}

// Verify checks the sample app's base image, pinned by digest.
//
// Every manifest and blob is hashed and the digest returned. An expected
// revision the image does not carry is a mismatch, not a pass.
//
// +check
// +cache="session"
func (t *SlipwayTests) Verify(ctx context.Context) error {
	s, err := t.newScenario(ctx, "verify")
	if err != nil {
		return err
	}
	// No --revision: verify would expect it on the image.
	m := dag.Slipway(dagger.SlipwayOpts{Source: sampleApp(s.config("base", []string{"unit"}))})
	ref := t.BaseImage
	baseDigest := digestOf(ref)
	if !strings.HasPrefix(baseDigest, "sha256:") {
		return fmt.Errorf("base image %q: want it pinned by digest (REF@sha256:…)", ref)
	}
	got, err := m.Verify(ctx, ref, dagger.SlipwayVerifyOpts{Full: true})
	if err != nil {
		return err
	}
	if got != baseDigest {
		return fmt.Errorf("verify %s returned %q, want that digest", ref, got)
	}
	_, err = m.Verify(ctx, ref, dagger.SlipwayVerifyOpts{Revision: strings.Repeat("0", 40)})
	if err == nil || !strings.Contains(err.Error(), "org.opencontainers.image.revision") {
		return fmt.Errorf("verify with a revision busybox does not carry: err = %v, want a revision mismatch", err)
	}
	return nil
}

// VerifyPromoted verifies an image Slipway promoted into the ephemeral registry.
//
// It checks its digest, its revision label and its promotion record, and
// (with hostRegistry) that the promotion wrote nothing into the registry
// the engine's host serves at localhost:5000.
//
// +check
// +cache="session"
func (t *SlipwayTests) VerifyPromoted(ctx context.Context) error {
	s, err := t.newScenario(ctx, "verified")
	if err != nil {
		return err
	}
	digest, err := s.promoteBaseline(ctx)
	if err != nil {
		return err
	}
	got, err := s.slipway("verify", "base", "unit").Verify(ctx, repository+"@"+digest, dagger.SlipwayVerifyOpts{
		Revision:         s.revision("baseline"),
		Full:             true,
		RequirePromotion: true,
	})
	if err != nil {
		return err
	}
	if digestOf(got) != digest {
		return fmt.Errorf("verify returned %q, want %s", got, digest)
	}
	if t.HostRegistry == "" {
		return nil
	}
	return expectNotIn(ctx, t.HostRegistry, "slipway", digest, []string{"sha-" + s.revision("baseline")[:7], s.stable()})
}

// expectNotIn checks that the registry at host (plain HTTP) has neither
// digest nor any of tags in repo.
func expectNotIn(ctx context.Context, host, repo, digest string, tags []string) error {
	base := "http://" + host + "/v2/" + repo
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, base+"/manifests/"+digest, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the host's registry %s: %w", host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("the host's registry %s answers %s for %s@%s: the promotion into the ephemeral registry wrote there", host, resp.Status, repo, digest)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+"/tags/list", nil)
	if err != nil {
		return err
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the host's registry %s: %w", host, err)
	}
	defer resp.Body.Close()
	var list struct{ Tags []string }
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return fmt.Errorf("the host's registry %s: tags of %s: %w", host, repo, err)
		}
	}
	for _, tag := range tags {
		if slices.Contains(list.Tags, tag) {
			return fmt.Errorf("the host's registry %s has %s:%s: the promotion into the ephemeral registry wrote there", host, repo, tag)
		}
	}
	return nil
}

// scenario is one check's corner of the ephemeral registry: its tags, its
// revisions and its run ids all start with ns. It builds for the engine's
// own platform, so that the sample app runs without emulation.
type scenario struct {
	ns       string
	platform dagger.Platform
	// base and registry are the images of the checks (New).
	base, registry string
}

func (t *SlipwayTests) newScenario(ctx context.Context, name string) (scenario, error) {
	platform, err := dag.DefaultPlatform(ctx)
	if err != nil {
		return scenario{}, err
	}
	return scenario{
		ns:       "t" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + name,
		platform: platform,
		base:     t.BaseImage,
		registry: t.RegistryImage,
	}, nil
}

// revision is the scenario's git commit for a step: 40 hex digits, so that
// the immutable tag sha-{sha7} is new in every run.
func (s scenario) revision(step string) string {
	sum := sha1.Sum([]byte(s.ns + "/" + step))
	return hex.EncodeToString(sum[:])
}

func (s scenario) runID(step string) string { return s.ns + "-" + step }

// stable is the scenario's floating tag, its gate.baseline.
func (s scenario) stable() string { return s.ns + "-stable" }

// slipway is the module for one step of the scenario: the sample app built
// as variant, running suites (of unit and e2e).
func (s scenario) slipway(step, variant string, suites ...string) *dagger.Slipway {
	return s.slipwayConfig(step, s.config(variant, suites))
}

// slipwayConfig is the module for one step of the scenario, with the
// sample app's slipway.yaml given whole.
func (s scenario) slipwayConfig(step, config string) *dagger.Slipway {
	return dag.Slipway(dagger.SlipwayOpts{
		Source:    sampleApp(config),
		Revision:  s.revision(step),
		RunID:     s.runID(step),
		SourceURL: sourceURL,
	})
}

// config is the sample app's slipway.yaml. No image: promotions go to the
// ephemeral registry. No scan: the checks stay off the network's CVE feeds.
func (s scenario) config(variant string, suites []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "build:\n  platforms: [%s]\n  args: {VARIANT: %s, BASE: %q}\n", s.platform, variant, s.base)
	if s.registry != "" {
		fmt.Fprintf(&b, "ephemeral:\n  image: %q\n", s.registry)
	}
	b.WriteString("test:\n  retries: 0\n  suites:\n")
	for _, suite := range suites {
		fmt.Fprintf(&b, "    - name: %s\n      run: [/app/test.sh, %s]\n      reports: [/out/%s.xml]\n", suite, suite, suite)
	}
	fmt.Fprintf(&b, "gate:\n  baseline: %s\n", s.stable())
	fmt.Fprintf(&b, "tags:\n  immutable: [\"sha-{sha7}\"]\n  floating: [%s]\n", s.stable())
	b.WriteString("scan:\n  mode: \"off\"\n")
	return b.String()
}

func sampleApp(config string) *dagger.Directory {
	return dag.CurrentModule().Source().Directory("testdata/app").WithNewFile("slipway.yaml", config)
}

// promoteBaseline promotes the base variant as the scenario's first image
// and returns its digest. It runs the unit suite only: with no baseline
// yet the gate is strict, and the base variant's e2e checkout case fails.
func (s scenario) promoteBaseline(ctx context.Context) (string, error) {
	p, err := readPromotion(ctx, s.slipway("baseline", "base", "unit").Promote())
	if err != nil {
		return "", fmt.Errorf("promoting the baseline: %w", err)
	}
	if !p.Decision.Pass || p.Decision.Mode != "strict" {
		return "", fmt.Errorf("baseline: decision pass=%v mode %q, want a strict pass (no baseline yet)", p.Decision.Pass, p.Decision.Mode)
	}
	digest, err := p.expectPublished(s, "baseline")
	if err != nil {
		return "", fmt.Errorf("baseline: %w", err)
	}
	if err := p.expectTag(s.stable(), "floating", digest); err != nil {
		return "", fmt.Errorf("baseline: %w", err)
	}
	return digest, nil
}

// promoteCandidate promotes variant, running both suites, against the
// scenario's baseline.
func (s scenario) promoteCandidate(ctx context.Context, variant string) (*promotion, error) {
	return readPromotion(ctx, s.slipway("candidate", variant, "unit", "e2e").Promote())
}

// expectStable checks where the scenario's floating tag points now, as the
// next promotion would resolve it: a dry run reports its baseline digest.
func (s scenario) expectStable(ctx context.Context, digest string) error {
	// A new step each time: the module's functions are cached for the
	// session (+cache="session"), and the same dry run twice would read
	// the tag as it was the first time.
	step := "probe-" + strconv.FormatInt(probes.Add(1), 10)
	probe := s.slipway(step, "fixed", "unit").Promote(dagger.SlipwayPromoteOpts{DryRun: true})
	got, err := probe.Baseline(ctx)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", s.stable(), err)
	}
	if digestOf(got) != digest {
		return fmt.Errorf("tag %s points at %s, want %s", s.stable(), got, digest)
	}
	return nil
}

// probes numbers expectStable's dry runs.
var probes atomic.Int64

// promotion is the JSON of a Promotion (pipeline/flow.Promotion).
type promotion struct {
	Decision struct {
		Pass    bool   `json:"pass"`
		Mode    string `json:"mode"`
		Tests   int    `json:"tests"`
		Reasons []struct {
			Kind     string `json:"kind"`
			Cell     string `json:"cell"`
			Case     string `json:"case"`
			Blocking bool   `json:"blocking"`
		} `json:"reasons"`
	} `json:"decision"`
	BaselineDigest string          `json:"baselineDigest"`
	Published      string          `json:"published"`
	Registry       *registryResult `json:"registry"`
}

// registryResult is what a promotion did to each tag (the JSON of
// registry.PromoteResult).
type registryResult struct {
	Tags []struct {
		Tag    string `json:"tag"`
		Kind   string `json:"kind"`
		Action string `json:"action"`
		From   string `json:"from"`
		To     string `json:"to"`
	} `json:"tags"`
}

func readPromotion(ctx context.Context, p *dagger.SlipwayPromotion) (*promotion, error) {
	return readPromotionAs[promotion](ctx, p)
}

// readPromotionAs reads a promotion's JSON into T.
func readPromotionAs[T any](ctx context.Context, p *dagger.SlipwayPromotion) (*T, error) {
	text, err := p.JSON(ctx)
	if err != nil {
		return nil, err
	}
	var out T
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, fmt.Errorf("promotion JSON: %w", err)
	}
	return &out, nil
}

// expectPublished checks that the candidate of step was published once,
// under the staging tag slipway-publish (the engine is never given an
// immutable tag), and tagged with its immutable tag by digest; it returns
// its digest.
func (p *promotion) expectPublished(s scenario, step string) (string, error) {
	tag := "sha-" + s.revision(step)[:7]
	prefix := repository + ":slipway-publish@sha256:"
	if !strings.HasPrefix(p.Published, prefix) {
		return "", fmt.Errorf("published %q, want %s<digest>", p.Published, prefix)
	}
	digest := digestOf(p.Published)
	return digest, p.expectTag(tag, "immutable", digest)
}

// expectPromoted checks a passing no-regression promotion over baseline
// and returns the candidate's digest.
func (p *promotion) expectPromoted(s scenario, baseline string) (string, error) {
	if !p.Decision.Pass || p.Decision.Mode != "no-regression" {
		return "", fmt.Errorf("decision pass=%v mode %q, want a no-regression pass", p.Decision.Pass, p.Decision.Mode)
	}
	if digestOf(p.BaselineDigest) != baseline {
		return "", fmt.Errorf("tested against baseline %q, want %s", p.BaselineDigest, baseline)
	}
	cand, err := p.expectPublished(s, "candidate")
	if err != nil {
		return "", err
	}
	if cand == baseline {
		return "", fmt.Errorf("the candidate has the baseline's digest %s", cand)
	}
	if err := p.expectTag(s.stable(), "floating", cand); err != nil {
		return "", err
	}
	for _, t := range p.Registry.Tags {
		if t.Tag == s.stable() && (t.Action != "moved" || digestOf(t.From) != baseline) {
			return "", fmt.Errorf("floating tag %s: %s from %q, want moved from the baseline %s", t.Tag, t.Action, t.From, baseline)
		}
	}
	return cand, nil
}

// expectTag checks that the registry result leaves tag at digest.
func (p *promotion) expectTag(tag, kind, digest string) error {
	if p.Registry == nil {
		return fmt.Errorf("no registry result: nothing was promoted")
	}
	for _, t := range p.Registry.Tags {
		if t.Tag == tag {
			if t.Kind != kind || digestOf(t.To) != digest {
				return fmt.Errorf("%s tag %s points at %q (%s), want %s tag at %s", t.Kind, tag, t.To, t.Action, kind, digest)
			}
			return nil
		}
	}
	return fmt.Errorf("the promotion wrote no tag %s", tag)
}

// expectReason checks that the decision holds a reason of kind for the
// case name of cell.
func (p *promotion) expectReason(kind, cell, name string, blocking bool) error {
	for _, r := range p.Decision.Reasons {
		if r.Kind == kind && r.Cell == cell && strings.HasSuffix(r.Case, name) {
			if r.Blocking != blocking {
				return fmt.Errorf("reason %s %s %s: blocking=%v, want %v", kind, cell, r.Case, r.Blocking, blocking)
			}
			return nil
		}
	}
	return fmt.Errorf("the decision has no %s reason for %s › %s: %+v", kind, cell, name, p.Decision.Reasons)
}

// testReport is the JSON of a TestReport (pipeline/report.Report).
type testReport struct {
	Digest string `json:"digest"`
	Cells  []struct {
		ID    string `json:"id"`
		Cases []struct {
			Name    string `json:"name"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"cases"`
	} `json:"cells"`
}

type caseWant struct{ cell, name, status, message string }

func (r *testReport) expectCase(w caseWant) error {
	for _, c := range r.Cells {
		if c.ID != w.cell {
			continue
		}
		for _, k := range c.Cases {
			if k.Name != w.name {
				continue
			}
			if k.Status != w.status || !strings.Contains(k.Message, w.message) {
				return fmt.Errorf("case %s › %s: %s %q, want %s %q", w.cell, w.name, k.Status, k.Message, w.status, w.message)
			}
			return nil
		}
	}
	return fmt.Errorf("no case %s › %s in the report", w.cell, w.name)
}

type cellWant struct {
	name, status       string
	exitCode, attempts int
}

func expectCells(ctx context.Context, cells []dagger.SlipwayCell, want []cellWant) error {
	var got []cellWant
	for _, c := range cells {
		var w cellWant
		var err error
		if w.name, err = c.Name(ctx); err != nil {
			return err
		}
		if w.status, err = c.Status(ctx); err != nil {
			return err
		}
		if w.exitCode, err = c.ExitCode(ctx); err != nil {
			return err
		}
		if w.attempts, err = c.Attempts(ctx); err != nil {
			return err
		}
		got = append(got, w)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("cells %+v, want %+v", got, want)
	}
	return nil
}

func expectLabel(ctx context.Context, ctr *dagger.Container, label, want string) error {
	got, err := ctr.Label(ctx, label)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("label %s = %q, want %q", label, got, want)
	}
	return nil
}

func expectFile(ctx context.Context, ctr *dagger.Container, path, want string) error {
	got, err := ctr.File(path).Contents(ctx)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s holds %q, want %q", path, got, want)
	}
	return nil
}

// digestOf is the sha256:… part of a reference (or the digest itself).
func digestOf(ref string) string {
	if _, d, ok := strings.Cut(ref, "@"); ok {
		return d
	}
	return ref
}
