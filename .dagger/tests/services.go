package main

import (
	"context"
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
// both by name. A broken app never answers /health: its cell is an error
// that names the service, never a test failure.
//
// +check
func (t *SlipwayTests) Services(ctx context.Context) error {
	s, err := t.newScenario(ctx, "services")
	if err != nil {
		return err
	}
	for _, tt := range []struct {
		variant, status, reason string
	}{
		{"base", "pass", ""},
		{"broken", "error", "service app never became healthy"},
	} {
		rep := s.slipwayConfig("services-"+tt.variant, s.serviceConfig(tt.variant)).Test()
		cells, err := rep.Cells(ctx)
		if err != nil {
			return fmt.Errorf("%s: test must report, not fail: %w", tt.variant, err)
		}
		if len(cells) != 1 {
			return fmt.Errorf("%s: %d cells, want the e2e cell", tt.variant, len(cells))
		}
		status, err := cells[0].Status(ctx)
		if err != nil {
			return err
		}
		reason, err := cells[0].Reason(ctx)
		if err != nil {
			return err
		}
		if status != tt.status || !strings.Contains(reason, tt.reason) {
			return fmt.Errorf("%s: e2e %s (%q), want %s with %q", tt.variant, status, reason, tt.status, tt.reason)
		}
	}
	return nil
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
