package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/registry"
)

const rollbackSynopsis = "REPO [REPO…] [--tag stable] [--to DIGEST|--steps N] [--dry-run] [--reason TEXT] [--format text|json]"

// rollbackArgs are rollback's parsed arguments.
type rollbackArgs struct {
	req registry.RollbackRequest
	// group are the repositories of a group rollback (several REPO
	// arguments: their tags move back together); nil for one.
	group    []name.Repository
	format   string
	insecure bool
}

// parseRollbackArgs parses rollback's arguments and reads the run and the
// actor from the environment; no network, no clock.
func parseRollbackArgs(e *env, args []string) (*rollbackArgs, error) {
	fs := newFlags(e, "rollback", rollbackSynopsis)
	tag := fs.String("tag", "stable", "the floating tag to move back")
	to := fs.String("to", "", "the digest to go back to (sha256:…); it must be in the tag's promotion history")
	steps := fs.Int("steps", 1, "how many promotions back to go (rollbacks are not steps)")
	dry := fs.Bool("dry-run", false, "print where the tag would go; write nothing")
	reason := fs.String("reason", "", "why, for the rollback record (one line)")
	runID := fs.String("run-id", "", "the CI run doing it, for the record (default: from the CI environment)")
	actor := fs.String("actor", "", "who does it, for the record (default: GITHUB_ACTOR, GITLAB_USER_LOGIN, CIRCLE_USERNAME or USER)")
	format := fs.String("format", "text", "output format: text or json")
	insecure := fs.Bool("insecure", false, "plain HTTP to any registry (localhost and private addresses always are)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) == 0 {
		return nil, usageErr(errors.New("want a REPO argument (several: the images of a group, rolled back together)"))
	}
	if !slices.Contains([]string{"text", "json"}, *format) {
		return nil, usageErr(fmt.Errorf("--format: %q is not text or json", *format))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["to"] && set["steps"] {
		return nil, usageErr(errors.New("--to and --steps: give one, the digest to go back to or how many promotions back"))
	}
	if *steps < 1 {
		return nil, usageErr(fmt.Errorf("--steps %d: want 1 or more", *steps))
	}
	if len(pos) > 1 && set["to"] {
		return nil, usageErr(errors.New("--to is one image's digest: roll back one REPO with it, or a group with --steps"))
	}
	var repos []name.Repository
	for _, p := range pos {
		repo, err := name.NewRepository(p, nameOpts(*insecure)...)
		if err != nil {
			return nil, usageErr(fmt.Errorf("REPO %q must be a repository, without tag or digest: %w", p, err))
		}
		repos = append(repos, repo)
	}
	repo := repos[0]
	var group []name.Repository
	if len(repos) > 1 {
		group = repos
	}
	if *runID == "" {
		if c, err := gitctx.FromEnv(e.getenv); err == nil {
			*runID = c.RunID
		}
	}
	if *actor == "" {
		*actor = cmp.Or(e.getenv("GITHUB_ACTOR"), e.getenv("GITLAB_USER_LOGIN"), e.getenv("CIRCLE_USERNAME"), e.getenv("USER"))
	}
	return &rollbackArgs{
		req: registry.RollbackRequest{
			Repo: repo, Tag: *tag, To: *to, Steps: *steps, DryRun: *dry,
			Reason: *reason, RunID: *runID, Actor: *actor,
		},
		group:    group,
		format:   *format,
		insecure: *insecure,
	}, nil
}

func runRollback(ctx context.Context, e *env, args []string) error {
	a, err := parseRollbackArgs(e, args)
	if err != nil {
		return err
	}
	a.req.Time = now().UTC()
	c, err := newRegistryClient(e, a.insecure)
	if err != nil {
		return err
	}
	if a.group != nil {
		var reqs []registry.RollbackRequest
		for _, repo := range a.group {
			r := a.req
			r.Repo = repo
			reqs = append(reqs, r)
		}
		res, err := c.RollbackAll(ctx, reqs)
		if res != nil {
			if werr := writeResult(e, a.format, res); werr != nil && err == nil {
				err = werr
			}
		}
		if err != nil {
			return historyErr(err)
		}
		return nil
	}
	res, err := c.Rollback(ctx, a.req)
	if res != nil && (err == nil || res.Promotion != nil) {
		// What happened, even when the move failed part way.
		if werr := writeResult(e, a.format, res); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return historyErr(err)
	}
	return nil
}

// historyErr maps rollback's and history's errors to exit codes: no
// rollback target is a policy refusal (1), like a moved tag; the rest as
// registryErr.
func historyErr(err error) error {
	if errors.Is(err, registry.ErrNoRollbackTarget) {
		return policyErr(err)
	}
	return registryErr(err)
}
