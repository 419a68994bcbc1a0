// Slipway: build a container image once, fan it out to a parallel test
// matrix, promote it only when it does at least as well as the previous good
// image, and prune the registry without deleting what is still needed.
//
// Every decision lives in the pipeline packages of this repository; this
// module is the wiring between them and the Dagger engine.
package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/retention"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// Slipway is the module's main object: the sources, the config and the git
// context every function shares.
type Slipway struct {
	// +private
	Source *dagger.Directory
	// +private
	ConfigPath string
	// +private
	Revision string
	// +private
	Branch string
	// +private
	Pr int
	// +private
	GitTag string
	// +private
	RunID string
	// +private
	SourceURL string
	// +private
	RegistryUsername string
	// +private
	RegistryPassword *dagger.Secret
	// +private
	TrivyDb *dagger.Directory
	// +private
	Secret []*dagger.Secret
	// +private
	SecretName []string
}

// New creates the Slipway object for a repository.
func New(
	// The repository: Dockerfile, sources and slipway.yaml.
	// +defaultPath="/"
	source *dagger.Directory,
	// Path of the config file inside source; a missing slipway.yaml means the defaults.
	// +default="slipway.yaml"
	config string,
	// Git commit the image is built from (full SHA).
	// On a pull request, the PR head commit, not the merge commit.
	// +optional
	revision string,
	// Branch the run is for, e.g. "feature/login".
	// +optional
	branch string,
	// Pull request number, 0 when the run is not for a pull request.
	// +optional
	pr int,
	// Git tag the run is for, e.g. "v1.2.3": adds the semver tags 1.2.3, 1.2 and 1.
	// +optional
	gitTag string,
	// CI run id, stamped in the dev.slipway.run-id label and the promotion record.
	// +optional
	runID string,
	// Repository URL for the org.opencontainers.image.source label, e.g. https://github.com/acme/app.
	// +optional
	sourceURL string,
	// Registry user name for the config's image (GHCR: the GitHub actor).
	// +optional
	registryUsername string,
	// Registry password or token for the config's image, e.g. env:GITHUB_TOKEN.
	// +optional
	registryPassword *dagger.Secret,
	// Trivy database for offline scans; given, nothing is downloaded.
	// A Trivy cache directory with db/trivy.db and db/metadata.json (and
	// java-db/ for JAR files), as written by trivy image --download-db-only
	// --cache-dir DIR.
	// +optional
	trivyDb *dagger.Directory,
	// A secret for the config's secrets:, e.g. env:API_TOKEN; repeatable.
	// Named by its source (env:API_TOKEN is API_TOKEN, file:./db-password
	// is db-password), or by --secret-name. Its value is hidden in every
	// report, log and error Slipway keeps.
	// +optional
	secret []*dagger.Secret,
	// Names of the --secret arguments, one per --secret, in order.
	// Needed for cmd: and the other providers. Default: each by its source.
	// +optional
	secretName []string,
) *Slipway {
	return &Slipway{
		Source:           source,
		ConfigPath:       config,
		Revision:         revision,
		Branch:           branch,
		Pr:               pr,
		GitTag:           gitTag,
		RunID:            runID,
		SourceURL:        sourceURL,
		RegistryUsername: registryUsername,
		RegistryPassword: registryPassword,
		TrivyDb:          trivyDb,
		Secret:           secret,
		SecretName:       secretName,
	}
}

// Build the image once from the Dockerfile, stamped with OCI labels.
//
// The labels are revision, source, created, version and run id. Returns the
// Container: chain terminal, publish or with-exec on it.
func (m *Slipway) Build(
	ctx context.Context,
	// Platform to build, e.g. linux/arm64. Default: the config's first platform.
	// +optional
	platform string,
	// Build argument KEY=VALUE, over the config's build.args; repeatable.
	// +optional
	buildArg []string,
	// Dockerfile stage to build, over the config's build.target.
	// +optional
	target string,
	// Image of the config's images section to build, by name. Default: the first.
	// +optional
	image string,
) (_ *dagger.Container, err error) {
	defer keepContext(&err)
	cfg, plan, err := m.plan(ctx, "")
	if err != nil {
		return nil, err
	}
	if cfg, err = buildConfigOf(cfg, image); err != nil {
		return nil, err
	}
	if platform == "" {
		platform = cfg.Build.Platforms[0]
	}
	if target != "" {
		if !cfg.Build.Buildpacks.IsZero() {
			return nil, fmt.Errorf("--target: the config builds with build.buildpacks, which has no Dockerfile stage")
		}
		cfg.Build.Target = target
	}
	return m.build(ctx, cfg, plan, platform, buildArg)
}

// Test runs the config's test matrix and reports every cell.
//
// The image is built from source, or given as a digest-pinned ref or a
// container. Test failures are in the report, never an error.
func (m *Slipway) Test(
	ctx context.Context,
	// Image to test, pinned by digest (repo@sha256:...); NAME=REF for each image of several.
	// Repeat it, one per image of the config's images section; an image not given is
	// built from source. Default: build from source.
	// +optional
	ref []string,
	// Run only shard i of n of the matrix, e.g. "2/4".
	// +optional
	shard string,
	// Container to test instead of building from source (e.g. an image address). Ignored with --ref.
	// +optional
	container *dagger.Container,
	// The refs are baselines: build nothing, and leave out the cells of images given none.
	// A sharded workflow's baseline jobs set it: an image with no baseline yet is then
	// judged on the candidate alone, as promote does.
	// +optional
	baseline bool,
) (_ *TestReport, err error) {
	defer keepContext(&err)
	cfg, plan, err := m.plan(ctx, shard)
	if err != nil {
		return nil, err
	}
	if baseline && container != nil {
		return nil, errors.New("--baseline: give the baseline images by --ref, not --container")
	}
	// Build from source unless every image is given (by ref, or a container).
	eng, err := m.engine(ctx, cfg, plan, false, !baseline && container == nil && len(ref) < len(plan.Images))
	if err != nil {
		return nil, err
	}
	defer eng.done(&err)
	if container != nil {
		if len(plan.Images) > 1 {
			return nil, fmt.Errorf("--container: this run has %d images: give --ref NAME=REF for each instead", len(plan.Images))
		}
		eng.candidate, eng.fromSource = container, false
		if len(ref) == 0 {
			plan.OnePlatform() // a container has one platform
		}
	}
	subject, err := m.subject(plan, ref, baseline)
	if err != nil {
		return nil, err
	}
	meta := report.Report{Revision: plan.Context.Revision, RunID: plan.Context.RunID, Shard: shard}
	if anyEphemeral(subject) && eng.registry == nil {
		if eng.registry, eng.registryHost, err = m.ephemeralRegistry(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if pinnedOnly(subject) {
		meta.Revision = ""
		if len(subject.Images) == 1 {
			meta.Image, meta.Digest = subject.Images[0].Ref, digestOfRef(subject.Images[0].Ref)
		}
	}
	opts := matrix.OptionsFrom(cfg.Test)
	opts.Redact = eng.redact
	rep := flow.TestSubject(ctx, eng, subject, plan.Cells, opts, meta)
	return newTestReport(rep)
}

// Promote publishes the image only if it does at least as well as the baseline.
//
// It builds once, tests the candidate and the baseline (the digest behind
// the config's gate.baseline tag) in parallel, gates, then publishes once
// and moves tags by digest. Fails when the gate blocks, with the Markdown
// summary in the error.
// +cache="session"
func (m *Slipway) Promote(
	ctx context.Context,
	// Test and gate, but publish nothing and move no tag.
	// +optional
	dryRun bool,
	// Return the promotion when the gate blocks, instead of failing the call.
	// Read its decision (files: promotion.json) to fail the job yourself.
	// +optional
	noFail bool,
	// Private key that signs the promotion's attestations, e.g. file:./cosign.key.
	// ECDSA P-256 or Ed25519 in PEM, or cosign's encrypted key (with
	// --signing-password). The image then carries a signed in-toto test
	// result and promotion decision, verified by verify --key and by
	// cosign verify-attestation.
	// +optional
	signingKey *dagger.Secret,
	// Password of an encrypted --signing-key (cosign generate-key-pair), e.g. env:COSIGN_PASSWORD.
	// +optional
	signingPassword *dagger.Secret,
) (_ *Promotion, err error) {
	defer keepContext(&err)
	signer, err := signerOf(ctx, signingKey, signingPassword)
	if err != nil {
		return nil, err
	}
	cfg, plan, err := m.plan(ctx, "")
	if err != nil {
		return nil, err
	}
	eng, err := m.engine(ctx, cfg, plan, true, true)
	if err != nil {
		return nil, err
	}
	defer eng.done(&err)
	client, err := m.registryClient(ctx, eng.registryHost != "")
	if err != nil {
		return nil, err
	}
	ignore, err := m.scanIgnore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	out, err := flow.Promote(ctx, flow.PromoteOptions{
		Scan:         cfg.Scan,
		ScanIgnore:   ignore,
		Plan:         plan,
		Test:         cfg.Test,
		Registry:     client,
		Engine:       eng,
		DryRun:       dryRun,
		Now:          time.Now().UTC(),
		RegistryHost: eng.registryHost,
		Redact:       eng.redact,
		Signer:       signer,
		Config:       m.configResource(ctx),
	})
	if errors.Is(err, flow.ErrGateBlocked) {
		if noFail {
			return newPromotion(out, eng.registryHost)
		}
		return nil, fmt.Errorf("%w\n%s", err, runplan.ForUser(out.Brief(), eng.registryHost))
	}
	if err != nil {
		return nil, runplan.ExplainUnreachable(plan.Repository, runplan.ForUserErr(err, eng.registryHost))
	}
	return newPromotion(out, eng.registryHost)
}

// Ci runs the whole flow with the config's defaults.
//
// Build, test candidate and baseline, gate, publish, promote: promote
// without a dry run.
// +cache="session"
func (m *Slipway) Ci(
	ctx context.Context,
	// Return the promotion when the gate blocks, instead of failing the call.
	// Read its decision (files: promotion.json) to fail the job yourself.
	// +optional
	noFail bool,
	// Private key that signs the promotion's attestations (see promote), e.g. file:./cosign.key.
	// +optional
	signingKey *dagger.Secret,
	// Password of an encrypted --signing-key, e.g. env:COSIGN_PASSWORD.
	// +optional
	signingPassword *dagger.Secret,
) (_ *Promotion, err error) {
	defer keepContext(&err)
	return m.Promote(ctx, false, noFail, signingKey, signingPassword)
}

// Verify checks a ref's digests, sizes and revision label, and returns its digest.
//
// It checks the manifest, config and layer digests and sizes, and that the
// revision label is the expected commit. Refs in the ephemeral registry are
// written localhost:5000/slipway@sha256:....
// +cache="session"
func (m *Slipway) Verify(
	ctx context.Context,
	// Image reference to verify (tag or digest).
	ref string,
	// Expected org.opencontainers.image.revision. Default: the module's --revision.
	// +optional
	revision string,
	// Stream and hash every blob, not only the manifests.
	// +optional
	full bool,
	// Require a Slipway promotion record for the digest.
	// +optional
	requirePromotion bool,
	// Public key (PEM, as cosign.pub) whose signed attestations the digest must carry.
	// A test result and a promotion decision pass, each signed by the key,
	// about this digest (and, with --revision, that commit).
	// +optional
	key *dagger.File,
) (_ string, err error) {
	defer keepContext(&err)
	if revision == "" {
		revision = m.Revision
	}
	cfg, err := m.config(ctx)
	if err != nil {
		return "", err
	}
	client, host, err := m.registryFor(ctx, cfg, ref)
	if err != nil {
		return "", err
	}
	var pub string
	if key != nil {
		if pub, err = key.Contents(ctx); err != nil {
			return "", fmt.Errorf("reading --key: %w", err)
		}
	}
	d, err := client.Verify(ctx, runplan.EphemeralRef(ref, host), registry.VerifyOptions{Revision: revision, Full: full, RequirePromotion: requirePromotion})
	if err == nil && key != nil {
		_, err = flow.VerifySigned(ctx, client, d, []byte(pub), revision)
	}
	if err != nil {
		return "", runplan.ExplainUnreachable(ref, fmt.Errorf("verify %s: %w", ref, runplan.ForUserErr(err, host)))
	}
	return d.DigestStr(), nil
}

// Prune plans retention for a repository by the config's rules.
//
// A dry run: it deletes only with --confirm. On ghcr.io the registry
// password is used as the GitHub token of the GitHub Packages API.
// +cache="session"
func (m *Slipway) Prune(
	ctx context.Context,
	// Repository to prune, e.g. ghcr.io/acme/app.
	// Default: the config's image (each image's repository in turn, for an
	// images section), else the ephemeral localhost:5000/slipway.
	// +optional
	repository string,
	// Apply the plan. Without it, prune only reports.
	// +optional
	confirm bool,
	// Refs or digests in use (e.g. deployed), one a line: never deleted.
	// +optional
	inUse *dagger.File,
) (_ *PruneReport, err error) {
	defer keepContext(&err)
	cfg, err := m.config(ctx)
	if err != nil {
		return nil, err
	}
	inUseText := ""
	if inUse != nil {
		if inUseText, err = inUse.Contents(ctx); err != nil {
			return nil, fmt.Errorf("reading --in-use: %w", err)
		}
	}
	if repository == "" && len(cfg.Images) > 0 {
		return m.pruneImages(ctx, cfg, confirm, inUseText)
	}
	if repository == "" {
		repository = cfg.Image
	}
	if repository == "" {
		repository = runplan.EphemeralRepository
	}
	return m.prune(ctx, cfg, repository, confirm, inUseText)
}

// prune plans retention for one repository, and applies it with confirm.
func (m *Slipway) prune(ctx context.Context, cfg *config.Config, repository string, confirm bool, inUse string) (*PruneReport, error) {
	opts := retention.RunOptions{Repo: repository, Config: cfg, Apply: confirm, Now: time.Now().UTC(), InUse: strings.NewReader(inUse)}
	if m.RegistryPassword != nil {
		pw, err := m.RegistryPassword.Plaintext(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the registry password: %w", err)
		}
		opts.Access.Username, opts.Access.Password = m.RegistryUsername, pw
	}
	client, host, err := m.registryFor(ctx, cfg, repository)
	if err != nil {
		return nil, err
	}
	opts.Access.Records = client
	if host != "" {
		opts.Repo = runplan.EphemeralRef(repository, host)
		opts.Access.Insecure = true
	}
	plan, res, err := retention.Run(ctx, opts)
	if plan == nil || (res == nil && err != nil) {
		return nil, runplan.ExplainUnreachable(repository, fmt.Errorf("prune %s: %w", repository, runplan.ForUserErr(err, host)))
	}
	rendered, rerr := retention.Render(plan, res)
	if rerr != nil {
		return nil, rerr
	}
	table, jsonText := runplan.ForUser(rendered.Table, host), runplan.ForUser(rendered.JSON, host)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w\n\n%s", repository, runplan.ForUserErr(err, host), table)
	}
	return &PruneReport{JSONText: jsonText, MarkdownText: table}, nil
}

// Tags lists the tags and labels this run would use.
//
// One line each: "tag NAME CLASS immutable|floating" and "label KEY=VALUE".
func (m *Slipway) Tags(ctx context.Context) (_ []string, err error) {
	defer keepContext(&err)
	_, plan, err := m.plan(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range plan.Tags {
		kind := "floating"
		if t.Immutable {
			kind = "immutable"
		}
		out = append(out, fmt.Sprintf("tag %s %s %s", t.Name, t.Class, kind))
	}
	for _, l := range gitctx.LabelList(plan.Labels) {
		out = append(out, "label "+l)
	}
	return out, nil
}

// config reads slipway.yaml from the source; the default path may be absent.
func (m *Slipway) config(ctx context.Context) (*config.Config, error) {
	ok, err := m.Source.Exists(ctx, m.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.ConfigPath, err)
	}
	if !ok {
		if m.ConfigPath != config.DefaultPath {
			return nil, fmt.Errorf("config %s: not found in the source directory", m.ConfigPath)
		}
		d := config.Default()
		return &d, nil
	}
	text, err := m.Source.File(m.ConfigPath).Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.ConfigPath, err)
	}
	cfg, err := config.Load(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.ConfigPath, err)
	}
	return cfg, nil
}

// plan joins the config and the git context of the arguments.
func (m *Slipway) plan(ctx context.Context, shard string) (*config.Config, *runplan.Plan, error) {
	cfg, err := m.config(ctx)
	if err != nil {
		return nil, nil, err
	}
	c := gitctx.Context{
		Revision: m.Revision, Branch: m.Branch, PR: m.Pr, GitTag: m.GitTag, RunID: m.RunID,
		Source: gitctx.SourceURL(m.SourceURL), Provider: gitctx.ProviderFlags,
	}
	if c.Revision != "" {
		c.RevisionSource = "--revision"
	}
	plan, err := runplan.New(cfg, c, time.Now().UTC(), shard)
	if err != nil {
		return nil, nil, err
	}
	return cfg, plan, nil
}

// build builds the image for one platform and stamps the plan's labels.
func (m *Slipway) build(ctx context.Context, cfg *config.Config, plan *runplan.Plan, platform string, buildArgs []string) (*dagger.Container, error) {
	ctr, err := m.image(ctx, cfg, platform, buildArgs)
	if err != nil {
		return nil, err
	}
	return stamp(ctr, plan), nil
}

// stamp puts the plan's labels on ctr. They change with every run (created,
// run id), so cells run on the image without them, where an unchanged
// commit's cells come from the engine's cache, and Publish stamps them.
func stamp(ctr *dagger.Container, plan *runplan.Plan) *dagger.Container {
	for _, l := range gitctx.LabelList(plan.Labels) {
		k, v, _ := strings.Cut(l, "=")
		ctr = ctr.WithLabel(k, v)
	}
	return ctr
}

// image builds the image for one platform, without labels: with the
// config's buildpacks builder, or from the Dockerfile.
func (m *Slipway) image(ctx context.Context, cfg *config.Config, platform string, buildArgs []string) (*dagger.Container, error) {
	if !cfg.Build.Buildpacks.IsZero() {
		if len(buildArgs) > 0 {
			return nil, fmt.Errorf("--build-arg: the config builds with build.buildpacks, which has no build arguments (set build.buildpacks.env)")
		}
		return m.buildpacksImage(ctx, cfg, platform)
	}
	return m.dockerImage(cfg, platform, buildArgs)
}

// dockerImage builds the config's Dockerfile (its build.target) for one
// platform, without labels.
func (m *Slipway) dockerImage(cfg *config.Config, platform string, buildArgs []string) (*dagger.Container, error) {
	args, err := runplan.BuildArgs(cfg.Build.Args, buildArgs)
	if err != nil {
		return nil, err
	}
	opts := dagger.DirectoryDockerBuildOpts{
		Dockerfile: cfg.Build.Dockerfile,
		Target:     cfg.Build.Target,
		Platform:   dagger.Platform(platform),
	}
	for _, a := range args {
		opts.BuildArgs = append(opts.BuildArgs, dagger.BuildArg{Name: a.Name, Value: a.Value})
	}
	return m.Source.Directory(cfg.Build.Context).DockerBuild(opts), nil
}

// registryFor returns a registry client for ref and, when ref is in the
// ephemeral registry, the endpoint it is reached at (started for the call).
func (m *Slipway) registryFor(ctx context.Context, cfg *config.Config, ref string) (*registry.Client, string, error) {
	if !runplan.IsEphemeral(ref) {
		client, err := m.registryClient(ctx, false)
		return client, "", err
	}
	_, host, err := m.ephemeralRegistry(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	client, err := m.registryClient(ctx, true)
	return client, host, err
}

// registryClient is the go-containerregistry client with the module's
// credentials; insecure talks plain HTTP (the ephemeral registry's endpoint).
func (m *Slipway) registryClient(ctx context.Context, insecure bool) (*registry.Client, error) {
	var opts []registry.Option
	if m.RegistryPassword != nil {
		pw, err := m.RegistryPassword.Plaintext(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the registry password: %w", err)
		}
		opts = append(opts, registry.WithBasicAuth(m.RegistryUsername, pw))
	}
	if insecure {
		opts = append(opts, registry.WithInsecure())
	}
	return registry.New(opts...)
}

// Rollback moves a floating tag back to the image it pointed at before.
//
// The target comes from the promotion records: the image the tag pointed
// at before its last promotion, or --steps promotions back (rollbacks are
// not steps), or --to. The move is a compare-and-swap against the digest
// read at the start, and writes a promotion record with decision rollback,
// the reason, the actor, the run id and the digest it replaced. Fails when
// the history does not say where to go, or when the tag moved meanwhile.
// In a run of several images with no --repository, every image's tag moves
// back together, all or none, each with a record naming the group. A re-run
// of a rollback (the same --run-id) changes nothing.
// +cache="session"
func (m *Slipway) Rollback(
	ctx context.Context,
	// Repository of the floating tag, e.g. ghcr.io/acme/app.
	// Default: the config's image, else the ephemeral localhost:5000/slipway; with several images, all of them.
	// +optional
	repository string,
	// Floating tag to move back.
	// +default="stable"
	tag string,
	// Digest to go back to (sha256:...), one the tag's promotion history holds.
	// Default: --steps promotions back.
	// +optional
	to string,
	// How many promotions back to go; rollbacks are not steps. Ignored with --to.
	// +default=1
	steps int,
	// Find the target and report it; move nothing and write no record.
	// +optional
	dryRun bool,
	// Why, in one line, for the rollback record.
	// +optional
	reason string,
	// Who rolls back, for the rollback record. Default: the constructor's --registry-username.
	// +optional
	actor string,
) (_ *RollbackResult, err error) {
	defer keepContext(&err)
	if actor == "" {
		actor = m.RegistryUsername
	}
	if repository == "" {
		cfg, err := m.config(ctx)
		if err != nil {
			return nil, err
		}
		if len(cfg.Images) > 1 {
			return m.rollbackGroup(ctx, cfg, registry.RollbackRequest{
				Tag: tag, To: to, Steps: steps, DryRun: dryRun, Reason: reason, Actor: actor, RunID: m.RunID, Time: time.Now().UTC(),
			})
		}
	}
	f, err := m.floatingTag(ctx, repository)
	if err != nil {
		return nil, err
	}
	repo, err := f.client.ParseRepository(f.addr)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", f.ref, err)
	}
	if to != "" {
		steps = 0
	}
	res, err := f.client.Rollback(ctx, registry.RollbackRequest{
		Repo: repo, Tag: tag, To: to, Steps: steps, DryRun: dryRun,
		Reason: reason, Actor: actor, RunID: m.RunID, Time: time.Now().UTC(),
	})
	if err != nil {
		return nil, runplan.ExplainUnreachable(f.ref, runplan.ForUserErr(err, f.host))
	}
	return newRollbackResult(res, f.host)
}

// History lists the promotions and rollbacks of a floating tag, newest first.
//
// Read from the promotion records: time, digest, revision, decision, run,
// who and why, as a table, JSON or Markdown.
// +cache="session"
func (m *Slipway) History(
	ctx context.Context,
	// Repository of the floating tag, e.g. ghcr.io/acme/app.
	// Default: the config's image, else the ephemeral localhost:5000/slipway.
	// +optional
	repository string,
	// Floating tag whose moves to list.
	// +default="stable"
	tag string,
	// How many moves to read back, newest first.
	// +default=20
	limit int,
) (_ *PromotionHistory, err error) {
	defer keepContext(&err)
	f, err := m.floatingTag(ctx, repository)
	if err != nil {
		return nil, err
	}
	repo, err := f.client.ParseRepository(f.addr)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", f.ref, err)
	}
	h, err := f.client.History(ctx, repo, tag, limit)
	if err != nil {
		return nil, runplan.ExplainUnreachable(f.ref, fmt.Errorf("history of %s:%s: %w", f.ref, tag, runplan.ForUserErr(err, f.host)))
	}
	return newPromotionHistory(h, f.host)
}

// floatingRepo is where a floating tag lives, and how to reach it.
type floatingRepo struct {
	client *registry.Client
	// ref is the repository as the user knows it (localhost:5000/slipway
	// for the ephemeral registry); host the ephemeral registry's endpoint,
	// empty for another registry.
	ref, host string
	// addr is the repository as the client reaches it.
	addr string
}

// floatingTag resolves the repository of a floating tag (default: the
// config's image, else the ephemeral registry) and a client for it.
func (m *Slipway) floatingTag(ctx context.Context, repository string) (*floatingRepo, error) {
	cfg, err := m.config(ctx)
	if err != nil {
		return nil, err
	}
	if repository == "" && len(cfg.Images) > 1 {
		return nil, fmt.Errorf("the config has %d images: give --repository (one of %s)", len(cfg.Images), strings.Join(imageRepositories(cfg), ", "))
	}
	if repository == "" {
		repository = firstRepository(cfg)
	}
	client, host, err := m.registryFor(ctx, cfg, repository)
	if err != nil {
		return nil, err
	}
	return &floatingRepo{client: client, ref: repository, host: host, addr: runplan.EphemeralRef(repository, host)}, nil
}

func newRollbackResult(r *registry.RollbackResult, host string) (*RollbackResult, error) {
	j, err := r.JSON()
	if err != nil {
		return nil, err
	}
	return &RollbackResult{
		From: r.From, To: r.To, Steps: r.Steps, Action: string(r.Action), Revision: r.Target.Revision, DryRun: r.DryRun,
		JSONText: runplan.ForUser(j, host), MarkdownText: runplan.ForUser(r.Markdown(), host),
	}, nil
}

func newPromotionHistory(h *registry.History, host string) (*PromotionHistory, error) {
	j, err := h.JSON()
	if err != nil {
		return nil, err
	}
	var table strings.Builder
	if err := h.WriteTable(&table); err != nil {
		return nil, err
	}
	out := &PromotionHistory{
		Current: h.Current, End: h.End,
		JSONText:     runplan.ForUser(j, host),
		MarkdownText: runplan.ForUser(h.Markdown(), host),
		TableText:    runplan.ForUser(table.String(), host),
	}
	for _, e := range h.Entries {
		out.Entries = append(out.Entries, &HistoryEntry{
			Time: e.Time.UTC().Format(time.RFC3339), Digest: e.Digest, Replaced: e.Replaced, Decision: e.Decision,
			Revision: e.Revision, RunID: e.RunID, Actor: e.Actor, Reason: e.Reason,
		})
	}
	return out, nil
}
