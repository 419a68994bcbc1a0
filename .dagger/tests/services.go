package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"dagger/slipway-tests/internal/dagger"
)

// Services checks a suite that tests the image as a running service.
//
// The sample app runs as the service app (testdata/app/serve.sh, port
// 8080, healthy when GET /health answers), beside a sidecar (the base
// image serving /ping, healthy when a probe in its own image fetches it),
// and the command runs in a pinned runner (the base image) that reaches
// both by name. The app's image has a HEALTHCHECK (test -f /tmp/ready)
// that never holds under serve.sh: the service's own health check
// replaces it, so the app starts. A broken app never answers /health: its
// cell is an error that names the service and keeps what the last check
// saw, never a test failure. Without a health check of its own, the
// image's HEALTHCHECK decides, and the error says so.
//
// +check
// +cache="session"
func (t *SlipwayTests) Services(ctx context.Context) error {
	s, err := t.newScenario(ctx, "services")
	if err != nil {
		return err
	}
	noHealth := strings.Replace(s.serviceConfig("base"), "          health: {http: /health}\n", "", 1)
	for _, tt := range []struct {
		name, config, status, reason, log string
	}{
		{"base", s.serviceConfig("base"), "pass", "", ""},
		{"broken", s.serviceConfig("broken"), "error", "service app never became healthy", "404"},
		{"no-health", noHealth, "error", "the image's HEALTHCHECK (test -f /tmp/ready) did not pass", ""},
	} {
		text, err := s.slipwayConfig("services-"+tt.name, tt.config).Test().JSON(ctx)
		if err != nil {
			return fmt.Errorf("%s: test must report, not fail: %w", tt.name, err)
		}
		var r struct {
			Cells []struct{ ID, Status, Reason, LogTail string } `json:"cells"`
		}
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return fmt.Errorf("%s: report JSON: %w", tt.name, err)
		}
		if len(r.Cells) != 1 {
			return fmt.Errorf("%s: %d cells, want the e2e cell", tt.name, len(r.Cells))
		}
		c := r.Cells[0]
		if c.Status != tt.status || !strings.Contains(c.Reason, tt.reason) || !strings.Contains(c.LogTail, tt.log) {
			return fmt.Errorf("%s: e2e %s (%q, log %q), want %s with %q and a log with %q", tt.name, c.Status, c.Reason, c.LogTail, tt.status, tt.reason, tt.log)
		}
	}
	return nil
}

// ServicesShards promotes an app tested as a service by an HTTP suite in 3 shards.
//
// The image under test serves the app (the service app); the suite runs
// in a runner built from the Dockerfile's http-tests stage (once per run)
// and GETs its pages, shard i of 3 of the cases in cell http-i, each
// writing JUnit. The baseline promotes; a candidate whose app regressed
// (a wrong cart total, no search page) is blocked, the decision naming
// the failing tests, and the floating tag stays; the fix promotes.
//
// +check
// +cache="session"
func (t *SlipwayTests) ServicesShards(ctx context.Context) error {
	s, err := t.newScenario(ctx, "shards")
	if err != nil {
		return err
	}
	base, err := readPromotion(ctx, s.slipwayConfig("baseline", s.shardsConfig("base")).Promote())
	if err != nil {
		return fmt.Errorf("promoting the baseline: %w", err)
	}
	if !base.Decision.Pass || base.Decision.Tests != 6 {
		return fmt.Errorf("baseline: pass=%v with %d tests, want a pass with the suite's 6", base.Decision.Pass, base.Decision.Tests)
	}
	baseline, err := base.expectPublished(s, "baseline")
	if err != nil {
		return err
	}
	regressed, err := readPromotion(ctx, s.slipwayConfig("regressed", s.shardsConfig("regressed")).Promote(dagger.SlipwayPromoteOpts{NoFail: true}))
	if err != nil {
		return fmt.Errorf("promoting the regressed candidate: %w", err)
	}
	if regressed.Decision.Pass {
		return fmt.Errorf("a candidate whose cart total regressed passed the gate")
	}
	for _, c := range []struct{ cell, name string }{{"http-3", "cart-total"}, {"http-1", "search"}} {
		if err := regressed.expectReason("regression", c.cell, c.name, true); err != nil {
			return err
		}
	}
	if err := s.expectStable(ctx, baseline); err != nil {
		return err
	}
	cand, err := readPromotion(ctx, s.slipwayConfig("candidate", s.shardsConfig("fixed")).Promote())
	if err != nil {
		return fmt.Errorf("promoting the fix: %w", err)
	}
	digest, err := cand.expectPromoted(s, baseline)
	if err != nil {
		return err
	}
	return s.expectStable(ctx, digest)
}

// ServicesPromote promotes through a suite with services, candidate and baseline.
//
// The baseline cells run the baseline image as the service app, the
// candidate cells the candidate, in the same runner beside the same
// sidecar; an equal candidate is promoted, a broken one (never healthy)
// is blocked and the floating tag stays.
//
// +check
// +cache="session"
func (t *SlipwayTests) ServicesPromote(ctx context.Context) error {
	s, err := t.newScenario(ctx, "services-promote")
	if err != nil {
		return err
	}
	base, err := readPromotion(ctx, s.slipwayConfig("baseline", s.serviceConfig("base")).Promote())
	if err != nil {
		return fmt.Errorf("promoting the baseline: %w", err)
	}
	baseline, err := base.expectPublished(s, "baseline")
	if err != nil {
		return err
	}
	broken, err := readPromotion(ctx, s.slipwayConfig("broken", s.serviceConfig("broken")).Promote(dagger.SlipwayPromoteOpts{NoFail: true}))
	if err != nil {
		return fmt.Errorf("promoting the broken candidate: %w", err)
	}
	if broken.Decision.Pass {
		return fmt.Errorf("a candidate whose app never became healthy passed the gate")
	}
	if err := s.expectStable(ctx, baseline); err != nil {
		return err
	}
	cand, err := readPromotion(ctx, s.slipwayConfig("candidate", s.serviceConfig("fixed")).Promote())
	if err != nil {
		return fmt.Errorf("promoting the candidate: %w", err)
	}
	if _, err := cand.expectPromoted(s, baseline); err != nil {
		return err
	}
	return nil
}

// serviceConfig is the sample app's slipway.yaml for the service checks:
// one e2e suite in a runner, a sidecar and the app (started after it, so
// bound to it) as services.
func (s scenario) serviceConfig(variant string) string {
	cfg := s.config(variant, nil)
	suite := fmt.Sprintf(`    - name: e2e
      run: ["sh", "-c", "wget -qO- http://app:8080/variant && wget -qO- http://cache:9000/ping"]
      runner: {ref: %q}
      services:
        - name: cache
          ref: %q
          ports: [9000]
          args: ["sh", "-c", "mkdir -p /w && echo pong > /w/ping && exec httpd -f -p 9000 -h /w"]
          health: {exec: ["wget", "-qO-", "http://cache:9000/ping"]}
        - name: app
          image: app
          ports: [8080]
          args: [/app/serve.sh]
          health: {http: /health}
          timeout: 20s
`, s.base, s.base)
	return strings.Replace(cfg, "  suites:\n", "  suites:\n"+suite, 1)
}

// shardsConfig is the sample app's slipway.yaml for ServicesShards: the
// app built as variant, served by its own image, and the HTTP suite in
// the http-tests stage, one cell per shard.
func (s scenario) shardsConfig(variant string) string {
	cfg := s.config(variant, nil)
	suite := `  matrix: {shard: [1, 2, 3]}
  suites:
    - name: http-${shard}
      run: [/tests/http-test.sh]
      env: {SHARD: "${shard}"}
      reports: [/out/http.xml]
      runner: {build: {target: http-tests}}
      services:
        - name: app
          image: app
          ports: [8080]
          args: [/app/serve.sh]
          health: {http: /health}
          timeout: 30s
`
	return strings.Replace(cfg, "  suites:\n", suite, 1)
}
