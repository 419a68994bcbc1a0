package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
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
		fmt.Fprintf(tw, "  %s\t%s\n", c.ID, cmd)
	}
	return tw.Flush()
}
