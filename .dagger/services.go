package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// probeEvery is how often a service's health check runs while it starts.
const probeEvery = time.Second

// runner returns the container an exec's command runs in: the suite's
// pinned runner, a stage of the Dockerfile (built once per run), or the
// image under test.
func (e *engine) runner(t flow.Target, r flow.Runner) (*dagger.Container, error) {
	switch {
	case r.Ref != "":
		return e.pull(r.Ref), nil
	case r.Stage.Target != "":
		return e.stage(r.Stage)
	}
	return e.image(t)
}

// stage builds a stage of a Dockerfile of the run once per run, with the
// build section of its image (the first image's by default): every cell
// that runs in it shares the one container (and so the one build).
func (e *engine) stage(st flow.Stage) (*dagger.Container, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ctr, ok := e.stages[st]; ok {
		return ctr, nil
	}
	cfg := *e.cfg
	if st.Image != "" {
		im, ok := e.named[st.Image]
		if !ok {
			return nil, fmt.Errorf("no image %s in this run to build the stage %s from", st.Image, st.Target)
		}
		cfg = *im.cfg
	}
	cfg.Build.Target = st.Target
	ctr, err := e.m.dockerImage(&cfg, cfg.Build.Platforms[0], nil)
	if err != nil {
		return nil, err
	}
	if e.stages == nil {
		e.stages = map[flow.Stage]*dagger.Container{}
	}
	e.stages[st] = ctr
	return ctr, nil
}

// pull returns a pinned image, with the module's registry credentials
// where it lives in the config's registry.
func (e *engine) pull(ref string) *dagger.Container {
	ctr := dag.Container()
	if e.m.RegistryPassword != nil && runplan.RegistryOf(ref) == e.plan.RegistryHost() {
		ctr = ctr.WithRegistryAuth(e.plan.RegistryHost(), e.m.RegistryUsername, e.m.RegistryPassword)
	}
	return ctr.From(ref)
}

// start starts one service of an exec, bound to the services before it
// (started, in order: the app reaches its database), and waits until it
// is healthy: its ports accept connections (the engine's own check), then
// its HTTP path answers 2xx or its exec probe exits 0 (flow.WaitHealthy),
// all within its timeout. One that does not is a *flow.UnhealthyError,
// stopped, with what its command prints when run again (serviceLog).
func (e *engine) start(ctx context.Context, s flow.Service, before []flow.Service, started []*dagger.Service) (*dagger.Service, error) {
	var ctr *dagger.Container
	if s.Image.Role == flow.Sidecar {
		ctr = e.pull(s.Image.Ref)
	} else {
		var err error
		if ctr, err = e.image(s.Image); err != nil {
			return nil, err
		}
	}
	for i, b := range before {
		ctr = ctr.WithServiceBinding(b.Name, started[i])
	}
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		ctr = ctr.WithEnvVariable(k, v)
	}
	ctr, err := e.secrets.with(ctr, s.Secrets)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", s.Name, err)
	}
	// The engine shares one instance of identical services in a session,
	// and stop stops it for every user: another call's cells (the checks
	// of a tests module, a module calling promote twice at once) must
	// never share this call's. A cell with services is then never served
	// from the engine's cache: each call starts its own.
	ctr = ctr.WithEnvVariable("SLIPWAY_INSTANCE", e.instance)
	for _, p := range s.Ports {
		ctr = ctr.WithExposedPort(p)
	}
	if !s.ImageHealthcheck {
		// The engine starts a service when the image's HEALTHCHECK passes,
		// instead of its ports (DESIGN.md §9): the service's own check
		// replaces the image's.
		ctr = ctr.WithoutDockerHealthcheck()
	}
	svc := ctr.AsService(dagger.ContainerAsServiceOpts{Args: s.Args, UseEntrypoint: true})
	sctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	unhealthy := func(err error) error {
		_, _ = svc.Stop(context.WithoutCancel(ctx), dagger.ServiceStopOpts{Kill: true})
		var ue *flow.UnhealthyError
		if errors.As(err, &ue) {
			if out := serviceLog(ctx, ctr, s); out != "" {
				ue.Log = strings.TrimSpace(ue.Log + "\n" + out)
			}
		}
		return err
	}
	if _, err := svc.Start(sctx); err != nil {
		err = execError(err)
		if hc := imageHealthcheck(ctx, ctr); s.ImageHealthcheck && hc != nil {
			return nil, unhealthy(flow.ImageHealthcheckError(s, hc, err))
		}
		return nil, unhealthy(&flow.UnhealthyError{Service: s.Name, Err: fmt.Errorf("starting it: %w", err), Log: err.Error()})
	}
	var probe flow.Probe
	switch {
	case s.HTTP != "":
		url, err := svc.Endpoint(sctx, dagger.ServiceEndpointOpts{Port: s.HTTPPort, Scheme: "http"})
		if err != nil {
			return nil, unhealthy(&flow.UnhealthyError{Service: s.Name, Err: fmt.Errorf("its endpoint: %w", err)})
		}
		probe = flow.HTTPProbe(&http.Client{Timeout: 5 * time.Second}, strings.TrimSuffix(url, "/")+s.HTTP)
	case len(s.Exec) > 0:
		var n atomic.Int64
		probe = func(ctx context.Context) (string, error) {
			// Each probe is a new exec (SLIPWAY_PROBE), never a cached one.
			ran := ctr.WithServiceBinding(s.Name, svc).
				WithEnvVariable("SLIPWAY_PROBE", strconv.FormatInt(n.Add(1), 10)).
				WithExec(s.Exec, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
			code, err := ran.ExitCode(ctx)
			if err != nil {
				return "", execError(err)
			}
			out, _ := ran.CombinedOutput(ctx)
			if code != 0 {
				return out, fmt.Errorf("%s: exit %d", strings.Join(s.Exec, " "), code)
			}
			return out, nil
		}
	default:
		return svc, nil
	}
	if err := flow.WaitHealthy(sctx, s, probeEvery, probe); err != nil {
		return nil, unhealthy(err)
	}
	return svc, nil
}

// imageHealthcheck is the command of ctr's image's HEALTHCHECK, nil for
// none (a null dockerHealthcheck fails to read or reads empty).
func imageHealthcheck(ctx context.Context, ctr *dagger.Container) []string {
	args, err := ctr.DockerHealthcheck().Args(ctx)
	if err != nil || len(args) == 0 {
		return nil
	}
	return args
}

// serviceLogWindow bounds serviceLog's run of a service's command.
const serviceLogWindow = 15 * time.Second

// serviceLog runs an unhealthy service's command once more as a plain
// exec, for at most serviceLogWindow, to show what it printed: Dagger
// v0.21.8 has no API for a service's output. A command that exits (a crash
// at start) shows its log; one still running by then shows nothing.
func serviceLog(ctx context.Context, ctr *dagger.Container, s flow.Service) string {
	args := s.Args
	if args == nil {
		args, _ = ctr.DefaultArgs(ctx)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serviceLogWindow)
	defer cancel()
	ran := ctr.WithEnvVariable("SLIPWAY_SERVICE_LOG", "1").
		WithExec(args, dagger.ContainerWithExecOpts{UseEntrypoint: true, Expect: dagger.ReturnTypeAny})
	code, err := ran.ExitCode(wctx)
	if err != nil {
		return ""
	}
	out, err := ran.CombinedOutput(wctx)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s\n(the service's command, run again to read its output: exit %d)", strings.TrimSpace(out), code)
}

// withServices starts an exec's services in order, each reaching the ones
// before it, and binds them all to ctr by name; stop stops the ones
// started.
func (e *engine) withServices(ctx context.Context, ctr *dagger.Container, services []flow.Service) (_ *dagger.Container, stop func(), err error) {
	var started []*dagger.Service
	stop = func() {
		// Killed, not stopped gracefully (which waits for the command to
		// exit, up to the engine's grace period, while the cell holds its
		// slot): the instances are this cell attempt's alone (see start).
		for _, svc := range started {
			_, _ = svc.Stop(context.WithoutCancel(ctx), dagger.ServiceStopOpts{Kill: true})
		}
	}
	for i, s := range services {
		svc, err := e.start(ctx, s, services[:i], started)
		if err != nil {
			stop()
			return nil, func() {}, err
		}
		started = append(started, svc)
		ctr = ctr.WithServiceBinding(s.Name, svc)
	}
	return ctr, stop, nil
}
