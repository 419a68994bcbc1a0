package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/slipway-ci/slipway/pipeline/config"
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
		for _, l := range topology(c) {
			fmt.Fprintf(tw, "  \t  %s\n", l)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Cells) > 0 && !slices.ContainsFunc(p.Cells, func(c matrix.Cell) bool { return c.Smoke == 0 }) {
		fmt.Fprintln(e.stdout, "\nno test suite: the smoke check is all a run tests (add test.suites to slipway.yaml)")
	}
	return nil
}

// topology describes where a cell's command runs and what runs beside it,
// one line each; nothing for a cell that runs in the image under test alone.
func topology(c matrix.Cell) []string {
	var out []string
	switch {
	case c.Runner.Ref != "":
		out = append(out, "runner: "+c.Runner.Ref)
	case c.Runner.Build.Target != "":
		out = append(out, "runner: Dockerfile stage "+c.Runner.Build.Target+" (built once per run)")
	case len(c.Services) > 0:
		out = append(out, "runner: the image under test")
	}
	for _, s := range c.Services {
		img := s.Ref
		if s.Image == config.AppImage {
			img = "the image under test (candidate, or baseline in baseline cells)"
		}
		l := fmt.Sprintf("service %s: %s", s.Name, img)
		if len(s.Ports) > 0 {
			ports := make([]string, len(s.Ports))
			for i, p := range s.Ports {
				ports[i] = strconv.Itoa(p)
			}
			l += ", ports " + strings.Join(ports, ",")
		}
		switch {
		case s.Health.HTTP != "":
			port := s.Health.Port
			if port == 0 && len(s.Ports) > 0 {
				port = s.Ports[0]
			}
			l += fmt.Sprintf(", healthy when GET %s on %d answers 2xx", s.Health.HTTP, port)
		case len(s.Health.Exec) > 0:
			l += ", healthy when " + strings.Join(s.Health.Exec, " ") + " exits 0"
		}
		if len(s.Env) > 0 {
			l += ", env " + strings.Join(slices.Sorted(maps.Keys(s.Env)), ",")
		}
		out = append(out, l)
	}
	return out
}
