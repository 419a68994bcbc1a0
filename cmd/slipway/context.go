package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
)

// runFlags are the flags every verb that plans a run shares: the git
// context (defaults from the CI environment, then plain git) and the config.
type runFlags struct {
	revision, branch, gitTag, runID string
	pr                              int
	config                          string
}

func (r *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.revision, "revision", "", "commit SHA the image is built from (default: from the CI environment or git HEAD; on a pull request, its head commit)")
	fs.StringVar(&r.branch, "branch", "", "branch name (default: from the CI environment or git)")
	fs.IntVar(&r.pr, "pr", 0, "pull request number (default: from the CI environment)")
	fs.StringVar(&r.gitTag, "git-tag", "", "git tag being built, e.g. v1.2.3 (default: from the CI environment or git)")
	fs.StringVar(&r.runID, "run-id", "", "CI run id (default: from the CI environment)")
	fs.StringVar(&r.config, "config", config.DefaultPath, "path of slipway.yaml; a missing default file means the defaults")
}

// context detects the CI or git context and lets the flags override it.
func (r *runFlags) context(ctx context.Context, e *env) (gitctx.Context, error) {
	c, err := gitctx.FromEnv(e.getenv)
	if err != nil {
		return gitctx.Context{}, usageErr(fmt.Errorf("reading the CI context: %w", err))
	}
	if c.Provider == "" {
		// No CI detected: plain git, unless the flags say it all.
		g, err := gitctx.FromGit(ctx, ".")
		switch {
		case err == nil:
			c = g
		case r.revision == "":
			return gitctx.Context{}, usageErr(fmt.Errorf("no CI environment detected and %v: pass --revision", err))
		}
	}
	c = c.Override(gitctx.Context{Revision: r.revision, Branch: r.branch, PR: r.pr, GitTag: r.gitTag, RunID: r.runID})
	if err := c.Validate(); err != nil {
		return gitctx.Context{}, usageErr(err)
	}
	return c, nil
}

// loadConfig reads the config file. The default path may be absent (the
// defaults apply); any other path must exist.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.LoadFile(path)
	if errors.Is(err, fs.ErrNotExist) && path == config.DefaultPath {
		d := config.Default()
		return &d, nil
	}
	if err != nil {
		return nil, usageErr(err)
	}
	return cfg, nil
}
