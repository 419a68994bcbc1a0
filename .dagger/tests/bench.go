package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"dagger/slipway-tests/internal/dagger"
)

// BenchServices times service-mode cells through Slipway against a hand-written Dagger fan-out.
//
// Each cell starts the sample app as a service (testdata/app/serve.sh,
// port 8080) and runs, in a runner (the base image), a command that
// sleeps and then fetches /variant from it; at most parallelism cells run
// at once. The image is built once before either side is timed, and every
// cell carries a nonce so that neither side is served from the cache.
// The slipway module's runtime is loaded before the timing.
// Slipway's cells also wait for GET /health and stop their service after.
// Returns both wall times and Slipway's overhead. A benchmark, not a check:
// ci/bench/services/run.sh calls it.
//
// +cache="never"
func (t *SlipwayTests) BenchServices(
	ctx context.Context,
	// How many cells.
	// +default=12
	cells int,
	// How many cells run at once.
	// +default=4
	parallelism int,
	// How long each cell's command sleeps, in seconds.
	// +default=2
	seconds int,
) (string, error) {
	if cells < 1 || parallelism < 1 || seconds < 0 {
		return "", fmt.Errorf("cells and parallelism must be at least 1, seconds at least 0")
	}
	s, err := t.newScenario(ctx, "bench")
	if err != nil {
		return "", err
	}
	cmd := fmt.Sprintf("sleep %d && wget -qO- http://app:8080/variant", seconds)
	values := make([]string, cells)
	for i := range values {
		values[i] = strconv.Itoa(i + 1)
	}
	cfg := strings.Replace(s.config("base", nil), "  retries: 0\n",
		fmt.Sprintf("  retries: 0\n  parallelism: %d\n  matrix: {cell: [%s]}\n", parallelism, strings.Join(values, ", ")), 1)
	cfg = strings.Replace(cfg, "  suites:\n", fmt.Sprintf(`  suites:
    - name: bench-${cell}
      run: ["sh", "-c", %q]
      env: {NONCE: "%s-slipway-${cell}"}
      runner: {ref: %q}
      services:
        - {name: app, image: app, ports: [8080], args: [/app/serve.sh], health: {http: /health}}
`, cmd, s.ns, s.base), 1)
	src := sampleApp(cfg)
	app := src.DockerBuild(dagger.DirectoryDockerBuildOpts{
		Platform:  s.platform,
		BuildArgs: []dagger.BuildArg{{Name: "BASE", Value: s.base}, {Name: "VARIANT", Value: "base"}},
	})
	if _, err := app.Sync(ctx); err != nil {
		return "", fmt.Errorf("building the sample app: %w", err)
	}

	m := dag.Slipway(dagger.SlipwayOpts{Source: src, Revision: s.revision("bench"), RunID: s.runID("bench"), SourceURL: sourceURL})
	// The module's runtime is loaded before the timing: the peer has none.
	if _, err := m.Tags(ctx); err != nil {
		return "", fmt.Errorf("loading the slipway module: %w", err)
	}
	start := time.Now()
	rep := m.Test()
	got, err := rep.Cells(ctx)
	if err != nil {
		return "", fmt.Errorf("slipway test: %w", err)
	}
	slipway := time.Since(start)
	for _, c := range got {
		if status, err := c.Status(ctx); err != nil || status != "pass" {
			reason, _ := c.Reason(ctx)
			return "", fmt.Errorf("a Slipway cell did not pass: %s %v %s", status, err, reason)
		}
	}

	start = time.Now()
	if err := fanOut(ctx, app, s.base, s.ns, cmd, cells, parallelism); err != nil {
		return "", fmt.Errorf("hand-written fan-out: %w", err)
	}
	peer := time.Since(start)

	return fmt.Sprintf("%d service-mode cells, %ds each, parallelism %d\nslipway test:          %.1fs\nhand-written fan-out:  %.1fs\nslipway overhead:      %+.1f%%\n",
		cells, seconds, parallelism, slipway.Seconds(), peer.Seconds(), 100*(slipway.Seconds()-peer.Seconds())/peer.Seconds()), nil
}

// fanOut is the hand-written peer: the same cells with Dagger's API alone,
// a bounded number at once.
func fanOut(ctx context.Context, app *dagger.Container, base, nonce, cmd string, cells, parallelism int) error {
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := 1; i <= cells; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			id := fmt.Sprintf("%s-peer-%d", nonce, i)
			// Without the image's HEALTHCHECK (written for its own command),
			// as Slipway starts a service with a health check of its own.
			svc := app.WithoutDockerHealthcheck().WithEnvVariable("NONCE", id).WithExposedPort(8080).
				AsService(dagger.ContainerAsServiceOpts{Args: []string{"/app/serve.sh"}, UseEntrypoint: true})
			_, err := dag.Container().From(base).
				WithEnvVariable("NONCE", id).
				WithServiceBinding("app", svc).
				WithExec([]string{"sh", "-c", cmd}).
				Sync(ctx)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}
