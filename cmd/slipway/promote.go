package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

const promoteSynopsis = "SRC@sha256:… --to REPO [--tag T]… [--floating T]… [--expect DIGEST|none] [--dry-run] [--format text|json]\n" +
	"       slipway promote SRC1@sha256:… SRC2@sha256:… --to REPO1 --to REPO2 --expect D1|none --expect D2|none [--tag T]… [--floating T]…"

// promoteArgs are promote's parsed arguments: one request per SRC.
type promoteArgs struct {
	reqs     []registry.PromoteRequest
	format   string
	insecure bool
}

// parsePromoteArgs parses promote's arguments; it reads nothing else (no
// network, no clock), so it can be fuzzed. Several SRC (the images of one
// run) each take their own --to and --expect, in the same order.
func parsePromoteArgs(e *env, args []string) (*promoteArgs, error) {
	fs := newFlags(e, "promote", promoteSynopsis)
	var tags, floating, to, expect stringsFlag
	fs.Var(&to, "to", "the repository that receives the image (required; one per SRC, in order)")
	fs.Var(&tags, "tag", "an immutable tag to create (repeatable); never overwritten")
	fs.Var(&floating, "floating", "a floating tag to move last (repeatable), only if it still points at --expect; with several SRC, for all or none")
	fs.Var(&expect, "expect", `the baseline digest the floating tags point at now, or "none" (required with --floating; one per SRC, in order)`)
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
	if len(pos) == 0 {
		return nil, usageErr(fmt.Errorf("want a SRC@sha256:… argument"))
	}
	if !slices.Contains([]string{"text", "json"}, *format) {
		return nil, usageErr(fmt.Errorf("--format: %q is not text or json", *format))
	}
	if len(to) != len(pos) {
		return nil, usageErr(fmt.Errorf("--to REPO is required, one per SRC: %d SRC, %d --to", len(pos), len(to)))
	}
	if len(expect) > 1 && len(expect) != len(pos) {
		return nil, usageErr(fmt.Errorf("--expect: one per SRC, in order: %d SRC, %d --expect", len(pos), len(expect)))
	}
	out := &promoteArgs{format: *format, insecure: *insecure}
	for i, arg := range pos {
		src, err := name.NewDigest(arg, nameOpts(*insecure)...)
		if err != nil {
			return nil, usageErr(fmt.Errorf("SRC %q must be pinned by digest (repo@sha256:…; slipway verify prints it): %w", arg, err))
		}
		repo, err := name.NewRepository(to[i], nameOpts(*insecure)...)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--to %q must be a repository, without tag or digest: %w", to[i], err))
		}
		if j := slices.Index(to, to[i]); j < i {
			return nil, usageErr(fmt.Errorf("--to %s is given twice: each image of a run has its own repository", to[i]))
		}
		req := registry.PromoteRequest{
			Source: src, To: repo, Tags: tags, Floating: floating, DryRun: *dry,
			Record: registry.PromotionRecord{Decision: *decision, Revision: *revision, RunID: *runID},
		}
		if len(expect) > 0 {
			req.Expect = expect[min(i, len(expect)-1)]
		}
		out.reqs = append(out.reqs, req)
	}
	return out, nil
}

func runPromote(ctx context.Context, e *env, args []string) error {
	a, err := parsePromoteArgs(e, args)
	if err != nil {
		return err
	}
	c, err := newRegistryClient(e, a.insecure)
	if err != nil {
		return err
	}
	t := now().UTC()
	for i := range a.reqs {
		a.reqs[i].Record.Time = t
	}
	var res interface{ Lines() []string }
	if len(a.reqs) == 1 {
		r, perr := c.Promote(ctx, a.reqs[0])
		if r != nil {
			res = r
		}
		err = perr
	} else {
		r, perr := c.PromoteAll(ctx, a.reqs)
		if r != nil {
			res = r
		}
		err = perr
	}
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
