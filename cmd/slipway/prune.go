package main

import (
	"context"
	"io"

	"errors"
	"fmt"
	"os"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/retention"
)

// pruneNow is the clock prune plans with; tests replace it.
var pruneNow = time.Now

func runPrune(ctx context.Context, e *env, args []string) error {
	flags := newFlags(e, "prune", "REPO [flags]")
	cfgPath := flags.String("config", config.DefaultPath, "slipway.yaml with the retention policy (absent default path: the defaults)")
	inUsePath := flags.String("in-use", "", "file of refs or digests in use, one a line; never deleted")
	format := flags.String("format", "table", "output: table or json")
	planOut := flags.String("plan-out", "", "write the plan as JSON to this file (review it, then --apply it)")
	confirm := flags.Bool("confirm", false, "apply a fresh plan (without it, prune only plans)")
	applyPath := flags.String("apply", "", "apply exactly this reviewed plan, refusing items whose digest changed since")
	githubAPI := flags.String("github-api", "", "GitHub API URL for ghcr.io repositories (default api.github.com)")
	jobs := flags.Int("jobs", 8, "registry requests at once")
	pos, err := parseFlags(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr(errors.New("want exactly one repository, e.g. slipway prune ghcr.io/acme/app"))
	}
	if *format != "table" && *format != "json" {
		return usageErr(fmt.Errorf("--format %q: want table or json", *format))
	}
	if *confirm && *applyPath != "" {
		return usageErr(errors.New("--confirm applies a fresh plan, --apply a reviewed one: choose one"))
	}
	if *jobs < 1 {
		return usageErr(fmt.Errorf("--jobs %d: want at least 1", *jobs))
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	opts := retention.RunOptions{Repo: pos[0], Config: cfg, Apply: *confirm, Now: pruneNow(),
		Warn: func(s string) { fmt.Fprintln(e.stderr, "slipway prune:", s) }}
	if *inUsePath != "" {
		f, err := os.Open(*inUsePath)
		if err != nil {
			return usageErr(fmt.Errorf("reading --in-use: %w", err))
		}
		defer f.Close()
		opts.InUse = f
	}
	if *applyPath != "" {
		f, err := os.Open(*applyPath)
		if err != nil {
			return usageErr(fmt.Errorf("reading --apply: %w", err))
		}
		opts.Reviewed, err = retention.ReadPlan(f)
		f.Close()
		if err != nil {
			return usageErr(err)
		}
	}
	rc, err := registry.New(registry.WithEnv(e.getenv))
	if err != nil {
		return usageErr(err)
	}
	opts.Access = retention.Access{
		Username: e.getenv(registry.EnvUsername), Password: e.getenv(registry.EnvPassword),
		GitHubToken: e.getenv("GITHUB_TOKEN"), GitHubAPI: *githubAPI, Jobs: *jobs, Records: rc,
	}
	p, res, applyErr := retention.Run(ctx, opts)
	if p == nil {
		if errors.Is(applyErr, retention.ErrBadInput) {
			return usageErr(applyErr)
		}
		return infraErr(applyErr)
	}
	if *planOut != "" {
		if err := writePlanFile(*planOut, p); err != nil {
			return usageErr(err)
		}
	}
	if res == nil && applyErr != nil {
		return infraErr(applyErr)
	}
	if err := printPrune(e, *format, p, res); err != nil {
		return infraErr(err)
	}
	switch {
	case applyErr != nil:
		return infraErr(applyErr)
	case res != nil && res.Count(retention.StatusRefused) > 0:
		return policyErr(fmt.Errorf("%d items refused: the registry changed since the plan", res.Count(retention.StatusRefused)))
	}
	return nil
}

func writePlanFile(path string, p *retention.Plan) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing --plan-out: %w", err)
	}
	if err := retention.WritePlan(f, p); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printPrune(e *env, format string, p *retention.Plan, res *retention.Result) error {
	r, err := retention.Render(p, res)
	if err != nil {
		return err
	}
	if format == "table" {
		_, err = io.WriteString(e.stdout, r.Table)
	} else {
		_, err = io.WriteString(e.stdout, r.JSON)
	}
	return err
}
