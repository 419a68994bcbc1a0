package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
)

func runHistory(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "history", "REPO [--tag stable] [--limit N] [--format table|json|md]")
	tag := fs.String("tag", "stable", "the floating tag")
	limit := fs.Int("limit", 20, "how many moves to read back, newest first")
	format := fs.String("format", "table", "output: table, json or md (for $GITHUB_STEP_SUMMARY)")
	insecure := fs.Bool("insecure", false, "plain HTTP to any registry (localhost and private addresses always are)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr(fmt.Errorf("want one REPO argument, got %d", len(pos)))
	}
	if !slices.Contains([]string{"table", "json", "md"}, *format) {
		return usageErr(fmt.Errorf("--format: %q is not table, json or md", *format))
	}
	if *limit < 1 {
		return usageErr(fmt.Errorf("--limit %d: want 1 or more", *limit))
	}
	repo, err := name.NewRepository(pos[0], nameOpts(*insecure)...)
	if err != nil {
		return usageErr(fmt.Errorf("REPO %q must be a repository, without tag or digest: %w", pos[0], err))
	}
	c, err := newRegistryClient(e, *insecure)
	if err != nil {
		return err
	}
	h, err := c.History(ctx, repo, *tag, *limit)
	if err != nil {
		return historyErr(err)
	}
	switch *format {
	case "json":
		return writeJSON(e, h)
	case "md":
		_, err = io.WriteString(e.stdout, h.Markdown())
		return err
	}
	return h.WriteTable(e.stdout)
}
