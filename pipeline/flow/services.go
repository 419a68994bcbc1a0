package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/matrix"
)

// Sidecar is the Role of a pinned service image: the same in candidate and
// baseline cells.
const Sidecar = "sidecar"

// Runner is the container an exec's command runs in. The zero Runner is
// the image under test.
type Runner struct {
	// Ref is an image pinned by digest.
	Ref string
	// Stage is a stage of a Dockerfile of the run, built once per run.
	Stage Stage
}

// IsZero reports whether r is the image under test.
func (r Runner) IsZero() bool { return r.Ref == "" && r.Stage.Target == "" }

// Stage is a runner stage: a target of the Dockerfile of an image of the
// run, built with that image's build section.
type Stage struct {
	// Image names the image whose build builds it; "" the first image.
	Image string
	// Target is the Dockerfile stage.
	Target string
}

// String is how reports and logs name the stage.
func (s Stage) String() string {
	if s.Image == "" {
		return s.Target
	}
	return s.Target + " (" + s.Image + "'s Dockerfile)"
}

// Service is a container the engine starts before an exec's command, binds
// to it under Name, waits for, and stops after it. An exec's services
// start in order, each bound to the ones before it.
type Service struct {
	// Name is the host name the command reaches it by.
	Name string
	// Image is what runs: the exec's own target (the image under test,
	// candidate or baseline), or a Target with Role Sidecar and a pinned Ref.
	Image Target
	// Ports are exposed; the engine waits until each accepts connections.
	Ports []int
	// Env is sorted KEY=VALUE pairs. It carries the cell's SLIPWAY_CELL
	// and SLIPWAY_ATTEMPT and the role (SLIPWAY_ROLE: candidate or
	// baseline), so that each cell's attempt on each side gets its own
	// instance: the engine shares one instance between identical services,
	// and stopping a cell's would stop it under another cell. (The engine
	// adds what sets one run's instances apart from another's in the same
	// session.)
	Env []string
	// Args replace the image's command; nil keeps it. The entrypoint stays.
	Args []string
	// Secrets are the secrets of the call the service gets.
	Secrets []Secret
	// HTTP, when set, is a path that must answer 2xx to GET on HTTPPort.
	HTTP     string
	HTTPPort int
	// Exec, when set, is a command run in a container of the service's
	// image, with the service bound under Name, until it exits 0.
	Exec []string
	// ImageHealthcheck is true when the service has no health check of its
	// own (neither HTTP nor Exec): the image's own HEALTHCHECK, if it has
	// one, then decides when it has started, as the engine does instead of
	// its port check. With a health check of the service's, the image's
	// HEALTHCHECK is dropped: it was written for the image's own command,
	// which the service's Args may replace.
	ImageHealthcheck bool
	// Timeout bounds the wait until it is healthy.
	Timeout time.Duration
}

// ExecIn returns how the engine runs attempt of cell c against target t:
// ExecFor, in the suite's runner, with its services. A service of the
// image under test is t itself, so candidate and baseline execs differ in
// that image only.
func ExecIn(c matrix.Cell, t Target, attempt int) Exec {
	_, x, _ := ExecOf(c, Subject{Role: t.Role, Images: []Target{t}}, attempt)
	return x
}

// ExecOf returns how the engine runs attempt of cell c against the images
// of s, and the image its command runs in when it has no runner (the
// cell's image, else the first). A service of an image of the run (image:
// NAME) is that image of s, so candidate and baseline execs differ in
// those images only. An image the cell names that s lacks is an error.
func ExecOf(c matrix.Cell, s Subject, attempt int) (Target, Exec, error) {
	t, ok := s.Find(c.Image)
	if !ok && c.Runner.IsZero() {
		return t, Exec{}, fmt.Errorf("the %s has no image %s", s.Role, c.Image)
	}
	x := ExecFor(c, attempt)
	x.Runner = Runner{Ref: c.Runner.Ref, Stage: Stage{Image: c.Runner.Build.Image, Target: c.Runner.Build.Target}}
	sub := s
	for _, s := range c.Services {
		svc := Service{
			Name:    s.Name,
			Image:   Target{Role: Sidecar, Ref: s.Ref},
			Ports:   slices.Clone(s.Ports),
			Args:    slices.Clone(s.Args),
			Secrets: secretsOf(s.Secrets),
			HTTP:    s.Health.HTTP,
			Exec:    slices.Clone(s.Health.Exec),
			Timeout: s.Timeout.Std(),
		}
		if s.Image != "" {
			img, ok := sub.Find(s.Image)
			if !ok {
				return t, Exec{}, fmt.Errorf("service %s: the %s has no image %s", s.Name, sub.Role, s.Image)
			}
			svc.Image = img
		}
		if svc.HTTP != "" {
			svc.HTTPPort = s.Health.Port
			if svc.HTTPPort == 0 && len(s.Ports) > 0 {
				svc.HTTPPort = s.Ports[0] // Validate requires one of the two
			}
		}
		if svc.Timeout == 0 {
			svc.Timeout = config.DefaultServiceTimeout
		}
		svc.ImageHealthcheck = svc.HTTP == "" && len(svc.Exec) == 0
		env := map[string]string{}
		maps.Copy(env, s.Env)
		env["SLIPWAY_CELL"], env["SLIPWAY_ATTEMPT"], env["SLIPWAY_ROLE"] = c.ID, strconv.Itoa(attempt), sub.Role
		for _, k := range slices.Sorted(maps.Keys(env)) {
			svc.Env = append(svc.Env, k+"="+env[k])
		}
		x.Services = append(x.Services, svc)
	}
	return t, x, nil
}

// UnhealthyError is a service that did not become healthy: the cell is an
// error (the engine's or the service's), never a test result.
type UnhealthyError struct {
	// Service is the service's name.
	Service string
	// Err is why: the engine's error, or the last failed probe.
	Err error
	// Log is the service's output as far as the engine could read it, and
	// what the last probe saw.
	Log string
}

func (e *UnhealthyError) Error() string {
	return fmt.Sprintf("service %s never became healthy: %v", e.Service, e.Err)
}

func (e *UnhealthyError) Unwrap() error { return e.Err }

// ImageHealthcheckError is a service whose image's own HEALTHCHECK (used
// because the service has no health check of its own) did not pass.
func ImageHealthcheckError(s Service, healthcheck []string, err error) *UnhealthyError {
	return &UnhealthyError{
		Service: s.Name,
		Err: fmt.Errorf("the image's HEALTHCHECK (%s) did not pass, and the service has no health check of its own "+
			"to use instead (health.http or health.exec, which replace it): %w", strings.Join(healthcheck, " "), err),
		Log: err.Error(),
	}
}

// Probe checks once whether a service is ready. Its string is what it saw
// (a response, a command's output), kept for the log when it never is.
type Probe func(ctx context.Context) (string, error)

// WaitHealthy probes s every interval until a probe passes, and returns an
// *UnhealthyError when none has by s.Timeout (or ctx ends first).
func WaitHealthy(ctx context.Context, s Service, every time.Duration, probe Probe) error {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	tick := time.NewTicker(every)
	defer tick.Stop()
	var seen string
	var err error
	for n := 1; ; n++ {
		if seen, err = probe(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return &UnhealthyError{Service: s.Name, Err: fmt.Errorf("after %d checks in %s: %w", n, s.Timeout, err), Log: seen}
		case <-tick.C:
		}
	}
}

// HTTPProbe is the probe of an HTTP health check: GET url answers 2xx.
func HTTPProbe(client *http.Client, url string) Probe {
	return func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("GET %s: %w", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		seen := fmt.Sprintf("GET %s: %s\n%s", url, resp.Status, strings.TrimSpace(string(body)))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return seen, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return seen, nil
	}
}

// unhealthyOutcome keeps an unhealthy service's log in the cell's log tail.
func unhealthyOutcome(err error) matrix.Outcome {
	var ue *UnhealthyError
	if errors.As(err, &ue) && ue.Log != "" {
		return matrix.Outcome{Log: fmt.Sprintf("slipway: service %s:\n%s", ue.Service, ue.Log)}
	}
	return matrix.Outcome{}
}
