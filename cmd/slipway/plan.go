package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/slipway-ci/slipway/pipeline/matrix"
)

func runPlan(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "plan", "[flags]")
	var rf runFlags
	rf.register(fs)
	shard := fs.String("shard", "", "plan only shard i of n, e.g. 2/4")
	format := fs.String("format", "text", "output format: text or json")
	if err := parsePlanFlags(fs, args, format); err != nil {
		return err
	}
	p, err := makePlan(ctx, e, &rf, *shard)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(e, p)
	}
	writeContext(e, p)
	repo := p.Repository
	if p.Ephemeral {
		repo += " (ephemeral registry in the engine: no image in the config)"
	}
	fmt.Fprintln(e.stdout, "repository:", repo)
	fmt.Fprintf(e.stdout, "baseline: %s (gate %s; no digest there yet means strict)\n", p.Baseline, p.Gate.Mode)
	if !p.MovesFloating() {
		fmt.Fprintln(e.stdout, "floating tags: not moved (a pull request publishes its immutable tags only)")
	}
	fmt.Fprintln(e.stdout)
	writeTags(e, p)
	fmt.Fprintln(e.stdout)
	title := fmt.Sprintf("cells: %d", len(p.Cells))
	if p.Shard != "" {
		title += " (shard " + p.Shard + ")"
	}
	fmt.Fprintln(e.stdout, title)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, c := range p.Cells {
		cmd := c.Run.Shell
		if cmd == "" {
			cmd = strings.Join(c.Run.Args, " ")
		}
		if c.Smoke > 0 {
			cmd = fmt.Sprintf("(smoke check: the image's own entrypoint and command; passes on exit 0, healthy, or still running after %s)", c.Smoke)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", c.ID, cmd)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Cells) > 0 && !slices.ContainsFunc(p.Cells, func(c matrix.Cell) bool { return c.Smoke == 0 }) {
		fmt.Fprintln(e.stdout, "\nno test suite: the smoke check is all a run tests (add test.suites to slipway.yaml)")
	}
	return nil
}
