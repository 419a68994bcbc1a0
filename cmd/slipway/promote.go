package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

const promoteSynopsis = "SRC@sha256:… --to REPO [--tag T]… [--floating T]… [--expect DIGEST|none] [--dry-run] [--format text|json]"

// promoteArgs are promote's parsed arguments.
type promoteArgs struct {
	req      registry.PromoteRequest
	format   string
	insecure bool
}

// parsePromoteArgs parses promote's arguments; it reads nothing else (no
// network, no clock), so it can be fuzzed.
func parsePromoteArgs(e *env, args []string) (*promoteArgs, error) {
	fs := newFlags(e, "promote", promoteSynopsis)
	var tags, floating stringsFlag
	to := fs.String("to", "", "the repository that receives the image (required)")
	fs.Var(&tags, "tag", "an immutable tag to create (repeatable); never overwritten")
	fs.Var(&floating, "floating", "a floating tag to move last (repeatable), only if it still points at --expect")
	expect := fs.String("expect", "", `the baseline digest the floating tags point at now, or "none" (required with --floating)`)
	dry := fs.Bool("dry-run", false, "print what would happen; write nothing")
	format := fs.String("format", "text", "output format: text or json")
	decision := fs.String("decision", registry.DecisionManual, "the decision the promotion record carries: pass (a gate passed) or manual")
	revision := fs.String("revision", "", "the commit, for the promotion record")
	runID := fs.String("run-id", "", "the CI run, for the promotion record")
	insecure := fs.Bool("insecure", false, "plain HTTP to any registry (localhost and private addresses always are)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, usageErr(fmt.Errorf("want one SRC@sha256:… argument, got %d", len(pos)))
	}
	if !slices.Contains([]string{"text", "json"}, *format) {
		return nil, usageErr(fmt.Errorf("--format: %q is not text or json", *format))
	}
	src, err := name.NewDigest(pos[0], nameOpts(*insecure)...)
	if err != nil {
		return nil, usageErr(fmt.Errorf("SRC %q must be pinned by digest (repo@sha256:…; slipway verify prints it): %w", pos[0], err))
	}
	if *to == "" {
		return nil, usageErr(fmt.Errorf("--to REPO is required"))
	}
	repo, err := name.NewRepository(*to, nameOpts(*insecure)...)
	if err != nil {
		return nil, usageErr(fmt.Errorf("--to %q must be a repository, without tag or digest: %w", *to, err))
	}
	return &promoteArgs{
		req: registry.PromoteRequest{
			Source: src, To: repo, Tags: tags, Floating: floating, Expect: *expect, DryRun: *dry,
			Record: registry.PromotionRecord{Decision: *decision, Revision: *revision, RunID: *runID},
		},
		format:   *format,
		insecure: *insecure,
	}, nil
}

func runPromote(ctx context.Context, e *env, args []string) error {
	a, err := parsePromoteArgs(e, args)
	if err != nil {
		return err
	}
	a.req.Record.Time = now().UTC()
	c, err := newRegistryClient(e, a.insecure)
	if err != nil {
		return err
	}
	res, err := c.Promote(ctx, a.req)
	if res != nil {
		// What happened, even when it failed part way.
		if werr := writeResult(e, a.format, res); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return registryErr(err)
	}
	return nil
}

// writeResult prints what a registry operation did: as JSON, or one line
// per thing.
func writeResult(e *env, format string, res interface{ Lines() []string }) error {
	if format == "json" {
		return writeJSON(e, res)
	}
	for _, l := range res.Lines() {
		fmt.Fprintln(e.stdout, l)
	}
	return nil
}
