package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// now is the clock of the CLI; tests pin it.
var now = time.Now

func runTags(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tags", "[flags]")
	var rf runFlags
	rf.register(fs)
	format := fs.String("format", "text", "output format: text or json")
	if err := parsePlanFlags(fs, args, format); err != nil {
		return err
	}
	p, err := makePlan(ctx, e, &rf, "")
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(e, struct {
			Revision       string            `json:"revision"`
			RevisionSource string            `json:"revisionSource"`
			Tags           []gitctx.Tag      `json:"tags"`
			Labels         map[string]string `json:"labels"`
		}{p.Context.Revision, p.Context.RevisionSource, p.Tags, p.Labels})
	}
	writeContext(e, p)
	writeTags(e, p)
	fmt.Fprintln(e.stdout)
	fmt.Fprintln(e.stdout, "labels:")
	for _, l := range gitctx.LabelList(p.Labels) {
		fmt.Fprintln(e.stdout, "  "+l)
	}
	return nil
}

// parsePlanFlags parses the flags of tags and plan: no positional argument,
// and a known format.
func parsePlanFlags(fs *flag.FlagSet, args []string, format *string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", pos[0]))
	}
	if !slices.Contains([]string{"text", "json"}, *format) {
		return usageErr(fmt.Errorf("--format: %q is not text or json", *format))
	}
	return nil
}

// makePlan loads the config, reads the context and plans the run.
func makePlan(ctx context.Context, e *env, rf *runFlags, shard string) (*runplan.Plan, error) {
	cfg, err := loadConfig(rf.config)
	if err != nil {
		return nil, err
	}
	c, err := rf.context(ctx, e)
	if err != nil {
		return nil, err
	}
	p, err := runplan.New(cfg, c, now().UTC(), shard)
	if err != nil {
		return nil, usageErr(err)
	}
	return p, nil
}

func writeContext(e *env, p *runplan.Plan) {
	c := p.Context
	rev := c.Revision
	if rev == "" {
		rev = "(unknown)"
	} else if c.RevisionSource != "" {
		rev += " (" + c.RevisionSource + ")"
	}
	fmt.Fprintln(e.stdout, "revision:", rev)
}

func writeTags(e *env, p *runplan.Plan) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tCLASS\tKIND")
	for _, t := range p.Tags {
		kind := "floating"
		if t.Immutable {
			kind = "immutable"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Class, kind)
	}
	tw.Flush()
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
