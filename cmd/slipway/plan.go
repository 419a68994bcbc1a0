package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/runplan"
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
	if len(p.Images) > 1 {
		writeImages(e, p)
	} else {
		fmt.Fprintln(e.stdout, "repository:", repo)
		fmt.Fprintf(e.stdout, "baseline: %s (gate %s; no digest there yet means strict)\n", p.Baseline, p.Gate.Mode)
	}
	if !p.MovesFloating() {
		fmt.Fprintln(e.stdout, "floating tags: not moved (a pull request publishes its immutable tags only)")
	}
	fmt.Fprintln(e.stdout)
	writeTags(e, p)
	fmt.Fprintln(e.stdout)
	writeBuilds(e, p.Builds())
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
		for _, l := range topology(c, p) {
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
func topology(c matrix.Cell, p *runplan.Plan) []string {
	several := len(p.Images) > 1
	var out []string
	switch {
	case c.Runner.Ref != "":
		out = append(out, "runner: "+c.Runner.Ref)
	case c.Runner.Build.Target != "" && c.Runner.Build.Image != "":
		out = append(out, "runner: stage "+c.Runner.Build.Target+" of "+c.Runner.Build.Image+"'s Dockerfile (built once per run)")
	case c.Runner.Build.Target != "":
		out = append(out, "runner: Dockerfile stage "+c.Runner.Build.Target+" (built once per run)")
	case several:
		name := c.Image
		if name == "" {
			name = p.Images[0].Name
		}
		out = append(out, "runner: image "+name+" under test (candidate, or its baseline in baseline cells)")
	case len(c.Services) > 0:
		out = append(out, "runner: the image under test")
	}
	for _, s := range c.Services {
		img := s.Ref
		switch {
		case s.Image != "" && several:
			img = "image " + s.Image + " under test (candidate, or its baseline in baseline cells)"
		case s.Image != "":
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

// writeImages lists the images of a run of several: where each goes, its
// baseline and how it is built (once per run).
func writeImages(e *env, p *runplan.Plan) {
	fmt.Fprintf(e.stdout, "images: %d, each built once per run, promoted together (floating tags move for all or none)\n", len(p.Images))
	for _, im := range p.Images {
		b := im.Build
		build := b.Dockerfile + " in " + b.Context
		if b.Target != "" {
			build += ", stage " + b.Target
		}
		repo := im.Repository
		if im.Ephemeral {
			repo += " (ephemeral registry in the engine)"
		}
		fmt.Fprintf(e.stdout, "  %s: %s\n    baseline %s (gate %s; none there yet: its cells are judged strict)\n    build %s, platforms %s\n",
			im.Name, repo, im.Baseline, p.Gate.Mode, build, strings.Join(b.Platforms, ","))
	}
}

// writeBuilds lists what the run builds before any cell runs: each image
// on each platform, with where its cells run, and the runner stages.
func writeBuilds(e *env, b runplan.BuildPlan) {
	fmt.Fprintln(e.stdout, "builds: each once per run, every platform and stage before any cell runs")
	for _, im := range b.Images {
		how := im.Dockerfile + " in " + im.Context
		if im.Target != "" {
			how += ", stage " + im.Target
		}
		if im.Builder != "" {
			how = "buildpacks, builder " + im.Builder + " (its lifecycle's creator)"
		}
		fmt.Fprintf(e.stdout, "  %s: %s\n", im.Name, how)
		for _, pl := range im.Platforms {
			var what string
			switch {
			case pl.Tested:
				what = "tested: the cells run on it"
			case pl.Cells > 0:
				what = fmt.Sprintf("smoke-tested: %d cells run on it too (platforms: all), where the engine runs %s natively or emulated; else they are reported not run", pl.Cells, pl.Platform)
			default:
				what = "built only: no cell runs on it (published in the image index)"
			}
			fmt.Fprintf(e.stdout, "    %s: %s\n", pl.Platform, what)
		}
	}
	for _, st := range b.Stages {
		for _, im := range b.Images {
			if im.Name == st.Image {
				fmt.Fprintf(e.stdout, "  runner stage %s: from %s's Dockerfile (%s in %s)\n", st.Target, im.Name, im.Dockerfile, im.Context)
			}
		}
	}
}
