package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// engine runs flow execs as container execs: every cell on the same built
// container (one build per run), or on a digest-pinned image.
type engine struct {
	m         *Slipway
	cfg       *config.Config
	plan      *runplan.Plan
	candidate *dagger.Container
	// fromSource: the candidate is this run's build (not a container given
	// to test), so Build builds every platform.
	fromSource bool
	// variants are the candidate's other platforms, as Build built them.
	variants []*dagger.Container
	// registry is the ephemeral registry service, nil for a real registry.
	registry *dagger.Service
	// registryHost is the service's endpoint, for the registry client.
	registryHost string
	// secrets are the call's --secret arguments, by name.
	secrets *callSecrets
	// redact hides every secret value of the call (secrets.redact).
	redact func(string) string
	// instance sets this call's service instances apart from those of
	// another call in the same session (see start).
	instance string

	mu sync.Mutex
	// stages are the runner containers built from the Dockerfile, by stage.
	stages map[flow.Stage]*dagger.Container
	// named are the images of a run of several (the images section), by
	// name; the candidate is then the first (see images.go).
	named map[string]*namedImage
	// machines are checkMachine's outcomes, by image and platform.
	machines map[string]*machineCheck
}

// engine builds the candidate once (without the run's labels, see stamp),
// unless build is false (a test of refs or a container given), and, for a
// promotion to the ephemeral registry, starts the registry service; a test
// that reads no ref from it leaves it stopped.
func (m *Slipway) engine(ctx context.Context, cfg *config.Config, plan *runplan.Plan, promote, build bool) (_ *engine, err error) {
	cfg = firstImage(cfg)
	secrets, err := m.secrets(ctx, plan.Cells)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			secrets.cleanup() // no engine: done will not run
		}
	}()
	e := &engine{m: m, cfg: cfg, plan: plan, fromSource: build, secrets: secrets, redact: secrets.redact.Func(), instance: rand.Text()}
	if build {
		ctr, err := m.image(ctx, cfg, cfg.Build.Platforms[0], nil)
		if err != nil {
			return nil, err
		}
		e.candidate = ctr
	}
	if err := e.nameImages(ctx); err != nil {
		return nil, err
	}
	if plan.Ephemeral && promote {
		if e.registry, e.registryHost, err = m.ephemeralRegistry(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// done ends a call that made e: it removes the secrets' files and hides
// their values in the call's error.
func (e *engine) done(err *error) {
	e.secrets.cleanup()
	*err = e.secrets.redact.Error(*err)
}

// ephemeralRegistry starts the zero-setup registry of the run's project
// (storage in the project's cache volume, so it outlives the call and no
// other project sees it) and returns it with the endpoint a registry client
// reaches it at. The engine itself addresses it as
// runplan.EphemeralEngineHost through the RegistryService option
// (fromEphemeral, publish), on which port the service listens. The
// registry image is the config's ephemeral.image, by default
// runplan.DefaultEphemeralImage.
func (m *Slipway) ephemeralRegistry(ctx context.Context, cfg *config.Config) (*dagger.Service, string, error) {
	image := runplan.EphemeralImage(cfg.Ephemeral.Image)
	project, err := m.project(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	svc, err := dag.Container().
		From(image).
		WithEnvVariable("REGISTRY_STORAGE_DELETE_ENABLED", "true").
		WithEnvVariable("REGISTRY_HTTP_ADDR", fmt.Sprintf(":%d", runplan.EphemeralEnginePort)).
		WithMountedCache("/var/lib/registry", dag.CacheVolume(project.Volume())).
		WithExposedPort(runplan.EphemeralEnginePort).
		AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true}).
		Start(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("starting the ephemeral registry (%s; set ephemeral.image to a mirror where the engine cannot pull it): %w", image, err)
	}
	host, err := svc.Endpoint(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("ephemeral registry endpoint: %w", err)
	}
	return svc, host, nil
}

// project is whose ephemeral registry the run uses: the config's
// ephemeral.project, --source-url, or the source's git remote origin.
func (m *Slipway) project(ctx context.Context, cfg *config.Config) (runplan.Project, error) {
	gitConfig := ""
	ok, err := m.Source.Exists(ctx, ".git/config")
	if err != nil {
		return runplan.Project{}, fmt.Errorf("reading .git/config: %w", err)
	}
	if ok {
		if gitConfig, err = m.Source.File(".git/config").Contents(ctx); err != nil {
			return runplan.Project{}, fmt.Errorf("reading .git/config: %w", err)
		}
	}
	return runplan.ProjectOf(cfg.Ephemeral.Project, m.SourceURL, gitConfig), nil
}

// image returns the container of a target: the candidate built in this
// run (the variant of the target's platform, as Build built it), or a
// digest-pinned ref for the target's platform (an index's variant).
func (e *engine) image(t flow.Target) (*dagger.Container, error) {
	if t.Ref == "" {
		if im, ok := e.named[t.Image]; ok {
			if t.Platform != "" {
				return nil, fmt.Errorf("image %s: platforms: all is for a run of one image", t.Image)
			}
			return im.ctr, nil
		}
		return e.variant(t.Platform)
	}
	ctr := dag.Container()
	if t.Platform != "" {
		ctr = dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(t.Platform)})
	}
	if runplan.IsEphemeral(t.Ref) {
		return fromEphemeral(ctr, t.Ref, e.registry), nil
	}
	if host := e.registryOf(t.Ref); e.m.RegistryPassword != nil && host != "" {
		ctr = ctr.WithRegistryAuth(host, e.m.RegistryUsername, e.m.RegistryPassword)
	}
	return ctr.From(t.Ref), nil
}

// variant is the candidate's image for platform ("" for the first).
func (e *engine) variant(platform string) (*dagger.Container, error) {
	i := runplan.PlatformIndex(e.cfg.Build.Platforms, platform)
	switch {
	case i == 0:
		return e.candidate, nil
	case i < 0 || !e.fromSource:
		return nil, fmt.Errorf("no %s image to test: the image under test was not built for it (build.platforms: %s)", platform, strings.Join(e.cfg.Build.Platforms, ", "))
	case i > len(e.variants):
		return nil, fmt.Errorf("no %s image to test: it is built before the cells (Build), and was not", platform)
	}
	return e.variants[i-1], nil
}

// Build builds, before any cell runs (flow.Builder), what r asks for: the
// candidate for every platform of the config at once, and the runner
// stages the cells need. The build is timed and reported once, and an
// image that does not build, on any platform, fails the run before
// anything is written. The cells run on the first platform; Publish pushes
// the others as built here. A container given to test is only synced.
func (e *engine) Build(ctx context.Context, r flow.BuildRequest) (*report.Build, error) {
	if r.Names != nil {
		return e.buildNamed(ctx, r)
	}
	var jobs []buildJob
	platforms := e.cfg.Build.Platforms
	if !e.fromSource {
		platforms = platforms[:1]
	}
	if r.Image {
		var err error
		if jobs, e.variants, err = e.platformJobs(ctx, e.cfg, platforms, e.candidate, ""); err != nil {
			return nil, err
		}
	}
	stages, err := e.stageJobs(r.Stages)
	if err != nil {
		return nil, err
	}
	b, took, err := buildAll(ctx, append(jobs, stages...))
	if err != nil {
		return nil, err
	}
	if r.Image {
		b.Platforms = report.PlatformsBuilt(platforms, took[:len(platforms)])
	}
	return b, nil
}

// buildJob is one container Build syncs: an image of one platform, or a
// runner stage.
type buildJob struct {
	what string
	ctr  *dagger.Container
}

// platformJobs are the jobs of one image on platforms: first (its first
// platform, already made) and a variant of cfg's build for each other,
// returned too; each job is named by its platform after prefix.
func (e *engine) platformJobs(ctx context.Context, cfg *config.Config, platforms []string, first *dagger.Container, prefix string) ([]buildJob, []*dagger.Container, error) {
	jobs := []buildJob{{prefix + platforms[0], first}}
	var variants []*dagger.Container
	for _, p := range platforms[1:] {
		v, err := e.m.image(ctx, cfg, p, nil)
		if err != nil {
			return nil, nil, err
		}
		variants = append(variants, v)
		jobs = append(jobs, buildJob{prefix + p, v})
	}
	return jobs, variants, nil
}

// stageJobs are the runner stages the cells need, each built once.
func (e *engine) stageJobs(stages []flow.Stage) ([]buildJob, error) {
	var jobs []buildJob
	for _, st := range stages {
		ctr, err := e.stage(st)
		if err != nil {
			return nil, fmt.Errorf("the runner stage %s: %w", st, err)
		}
		jobs = append(jobs, buildJob{"the runner stage " + st.String(), ctr})
	}
	return jobs, nil
}

// buildAll syncs every job at once and times each: any that does not
// build fails the run, with every failure named.
func buildAll(ctx context.Context, jobs []buildJob) (*report.Build, []report.Duration, error) {
	took := make([]report.Duration, len(jobs))
	errs := make([]error, len(jobs))
	start := time.Now()
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			t := time.Now()
			if _, err := j.ctr.Sync(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", j.what, execError(err))
			}
			took[i] = report.Duration(time.Since(t))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return &report.Build{Images: len(jobs), Duration: report.Duration(time.Since(start))}, took, nil
}

// Exec runs one attempt of one cell: in its runner (by default the image
// under test), with its services started and healthy first. A non-zero
// exit is a result (Expect any); files the command wrote stay readable
// after it.
//
// On a platform the engine's host cannot run (no emulation), the kernel
// refuses the binaries ("exec format error"): that is a
// *flow.EmulationError, which the report notes and the gate leaves out.
func (e *engine) Exec(ctx context.Context, t flow.Target, x flow.Exec) (flow.ExecResult, error) {
	var res flow.ExecResult
	err := e.checkMachine(ctx, t)
	if err == nil {
		res, err = e.exec(ctx, t, x)
	}
	if t.Platform != "" && flow.IsExecFormatError(err) {
		err = &flow.EmulationError{Platform: t.Platform, Err: err}
	}
	return res, err
}

// checkMachine checks, once per image and platform after the first, that
// t's image runs its platform's binaries (`uname -m`, flow.CheckMachine):
// a base image with no variant for the platform gives the build another
// platform's, whose cells would pass and prove nothing. An image without
// uname cannot tell, and is let through.
func (e *engine) checkMachine(ctx context.Context, t flow.Target) error {
	if t.Platform == "" {
		return nil
	}
	key := strings.Join([]string{t.Role, t.Image, t.Ref, t.Platform}, " ")
	e.mu.Lock()
	if e.machines == nil {
		e.machines = map[string]*machineCheck{}
	}
	mc, ok := e.machines[key]
	if !ok {
		mc = &machineCheck{}
		e.machines[key] = mc
	}
	e.mu.Unlock()
	mc.once.Do(func() {
		ctr, err := e.image(t)
		if err != nil {
			mc.err = err
			return
		}
		ran := ctr.WithExec([]string{"uname", "-m"}, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		out, err := ran.Stdout(ctx)
		switch {
		case flow.IsExecFormatError(err):
			mc.err = err
		case err == nil:
			mc.err = flow.CheckMachine(t.Platform, out)
		}
	})
	return mc.err
}

// machineCheck is the outcome of one image's checkMachine.
type machineCheck struct {
	once sync.Once
	err  error
}

func (e *engine) exec(ctx context.Context, t flow.Target, x flow.Exec) (flow.ExecResult, error) {
	ctr, err := e.runner(t, x.Runner)
	if err != nil {
		return flow.ExecResult{}, err
	}
	ctr, stop, err := e.withServices(ctx, ctr, x.Services)
	if err != nil {
		return flow.ExecResult{}, err
	}
	defer stop()
	for _, kv := range x.Env {
		k, v, _ := strings.Cut(kv, "=")
		ctr = ctr.WithEnvVariable(k, v)
	}
	if ctr, err = e.secrets.with(ctr, x.Secrets); err != nil {
		return flow.ExecResult{}, err
	}
	if x.MountSource != "" {
		ctr = ctr.WithMountedDirectory(x.MountSource, e.m.Source)
	}
	if x.Workdir != "" {
		ctr = ctr.WithWorkdir(x.Workdir)
	}
	ran := ctr.WithExec(x.Argv, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	if x.Window > 0 {
		return e.windowed(ctx, ctr, ran, x)
	}
	code, err := ran.ExitCode(ctx)
	if err != nil {
		return flow.ExecResult{}, execError(err)
	}
	out, err := ran.CombinedOutput(ctx)
	if err != nil {
		return flow.ExecResult{}, execError(err)
	}
	res := flow.ExecResult{ExitCode: code, Output: out, Files: map[string]string{}}
	for _, p := range x.Reports {
		ok, err := ran.Exists(ctx, p)
		if err != nil {
			return flow.ExecResult{}, execError(err)
		}
		if !ok {
			continue
		}
		f := ran.File(p)
		size, err := f.Size(ctx)
		if err != nil {
			return flow.ExecResult{}, execError(err)
		}
		if size > report.MaxJUnitBytes {
			return flow.ExecResult{}, fmt.Errorf("report %s: %d bytes, more than the %d a JUnit file may have", p, size, report.MaxJUnitBytes)
		}
		if res.Files[p], err = f.Contents(ctx); err != nil {
			return flow.ExecResult{}, execError(err)
		}
	}
	return res, nil
}

// windowed runs an exec that may still be running at the end of its
// window (the smoke check of an image without a shell): the image is
// pulled first, so the window times the command only; a command still
// running then is abandoned (its request cancelled) and reported Running.
func (e *engine) windowed(ctx context.Context, ctr, ran *dagger.Container, x flow.Exec) (flow.ExecResult, error) {
	if _, err := ctr.Sync(ctx); err != nil {
		return flow.ExecResult{}, execError(err)
	}
	wctx, cancel := context.WithTimeout(ctx, x.Window)
	defer cancel()
	code, err := ran.ExitCode(wctx)
	if err != nil && wctx.Err() != nil && ctx.Err() == nil {
		return flow.ExecResult{Running: true}, nil
	}
	if err != nil {
		return flow.ExecResult{}, execError(err)
	}
	out, err := ran.CombinedOutput(ctx)
	if err != nil {
		return flow.ExecResult{}, execError(err)
	}
	return flow.ExecResult{ExitCode: code, Output: out}, nil
}

// Inspect reads what the smoke check needs from the target's image config:
// ENTRYPOINT, CMD, HEALTHCHECK, and whether /bin/sh exists. An image with
// no HEALTHCHECK has a null dockerHealthcheck; reading its args then fails
// or is empty, and both mean none.
func (e *engine) Inspect(ctx context.Context, t flow.Target) (flow.ImageConfig, error) {
	var img flow.ImageConfig
	ctr, err := e.image(t)
	if err != nil {
		return img, err
	}
	if img.Entrypoint, err = ctr.Entrypoint(ctx); err != nil {
		return img, execError(err)
	}
	if img.Cmd, err = ctr.DefaultArgs(ctx); err != nil {
		return img, execError(err)
	}
	if img.Shell, err = ctr.Exists(ctx, "/bin/sh"); err != nil {
		return img, execError(err)
	}
	hc := ctr.DockerHealthcheck()
	if args, err := hc.Args(ctx); err == nil && len(args) > 0 {
		shell, err := hc.Shell(ctx)
		if err != nil {
			return img, execError(err)
		}
		img.Health = &flow.Healthcheck{Args: args, Shell: shell}
	}
	return img, nil
}

// Publish pushes the candidate, every configured platform in one image
// index, stamped with the run's labels, and returns the digest reference
// the registry stored.
func (e *engine) Publish(ctx context.Context, ref string) (string, error) {
	return e.publish(ctx, e.cfg, e.candidate, e.variants, e.plan.Repository, ref)
}

// publish pushes first and the other platforms of cfg's build (as Build
// built them, else built now) in one image index, stamped with the run's
// labels, to ref in repo: through the ephemeral registry service, or with
// the module's credentials where repo's registry is an image's of the run.
func (e *engine) publish(ctx context.Context, cfg *config.Config, first *dagger.Container, built []*dagger.Container, repo, ref string) (string, error) {
	variants := make([]*dagger.Container, 0, len(cfg.Build.Platforms)-1)
	if built != nil {
		for _, v := range built {
			variants = append(variants, stamp(v, e.plan))
		}
	} else {
		for _, p := range cfg.Build.Platforms[1:] {
			v, err := e.m.build(ctx, cfg, e.plan, p, nil)
			if err != nil {
				return "", err
			}
			variants = append(variants, v)
		}
	}
	ctr := stamp(first, e.plan)
	opts := dagger.ContainerPublishOpts{PlatformVariants: variants}
	if runplan.IsEphemeral(ref) {
		opts.RegistryService = e.registry
		published, err := ctr.Publish(ctx, runplan.EngineRef(ref), opts)
		return runplan.ForUser(published, ""), err
	}
	if host := e.registryOf(repo); e.m.RegistryPassword != nil && host != "" {
		ctr = ctr.WithRegistryAuth(host, e.m.RegistryUsername, e.m.RegistryPassword)
	}
	return ctr.Publish(ctx, ref, opts)
}

// fromEphemeral pulls ref, in the ephemeral registry as users write it,
// from the registry service svc, at the address the engine reaches it at.
func fromEphemeral(ctr *dagger.Container, ref string, svc *dagger.Service) *dagger.Container {
	return ctr.From(runplan.EngineRef(ref), dagger.ContainerFromOpts{RegistryService: svc})
}

// execError keeps the failing command's stderr when the engine gives one.
func execError(err error) error {
	var ee *dagger.ExecError
	if errors.As(err, &ee) {
		return fmt.Errorf("exec %s: exit %d: %s", strings.Join(ee.Cmd, " "), ee.ExitCode, strings.TrimSpace(ee.Stderr))
	}
	return err
}
