package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// Rollback moves a floating tag back to the image it pointed at before.
//
// The target comes from the promotion records: the image the tag pointed
// at before its last promotion, or --steps promotions back (rollbacks are
// not steps), or --to. The move is a compare-and-swap against the digest
// read at the start, and writes a promotion record with decision rollback,
// the reason, the actor, the run id and the digest it replaced. Fails when
// the history does not say where to go, or when the tag moved meanwhile.
// +cache="session"
func (m *Slipway) Rollback(
	ctx context.Context,
	// Repository of the floating tag, e.g. ghcr.io/acme/app. Default: the config's image (the ephemeral registry without one).
	// +optional
	repository string,
	// Floating tag to move back.
	// +default="stable"
	tag string,
	// Digest to go back to (sha256:...), one the tag's promotion history holds. Default: --steps back.
	// +optional
	to string,
	// How many promotions back to go; rollbacks are not steps. Ignored with --to.
	// +default=1
	steps int,
	// Find the target and report it; move nothing and write no record.
	// +optional
	dryRun bool,
	// Why, in one line, for the rollback record.
	// +optional
	reason string,
	// Who rolls back, for the rollback record. Default: the constructor's --registry-username.
	// +optional
	actor string,
) (*RollbackResult, error) {
	client, repo, err := m.floatingRepository(ctx, repository)
	if err != nil {
		return nil, err
	}
	r, err := client.ParseRepository(repo)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	if to != "" {
		steps = 0
	}
	if actor == "" {
		actor = m.RegistryUsername
	}
	res, err := client.Rollback(ctx, registry.RollbackRequest{
		Repo: r, Tag: tag, To: to, Steps: steps, DryRun: dryRun,
		Reason: reason, Actor: actor, RunID: m.RunID, Time: time.Now().UTC(),
	})
	if err != nil {
		return nil, err
	}
	return newRollbackResult(res)
}

// History lists the promotions and rollbacks of a floating tag, newest first.
//
// Read from the promotion records: time, digest, revision, decision, run,
// who and why, as a table, JSON or Markdown.
// +cache="session"
func (m *Slipway) History(
	ctx context.Context,
	// Repository of the floating tag, e.g. ghcr.io/acme/app. Default: the config's image (the ephemeral registry without one).
	// +optional
	repository string,
	// Floating tag whose moves to list.
	// +default="stable"
	tag string,
	// How many moves to read back, newest first.
	// +default=20
	limit int,
) (*PromotionHistory, error) {
	client, repo, err := m.floatingRepository(ctx, repository)
	if err != nil {
		return nil, err
	}
	r, err := client.ParseRepository(repo)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	h, err := client.History(ctx, r, tag, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s:%s: %w", repo, tag, err)
	}
	return newPromotionHistory(h)
}

// floatingRepository resolves the repository of a floating tag (default:
// the config's image, else the ephemeral registry) to the address a
// registry client reaches it at, and returns a client for it.
func (m *Slipway) floatingRepository(ctx context.Context, repository string) (*registry.Client, string, error) {
	if repository == "" {
		cfg, err := m.config(ctx)
		if err != nil {
			return nil, "", err
		}
		repository = cfg.Image
		if repository == "" {
			repository = runplan.EphemeralRepository
		}
	}
	client, host, err := m.registryFor(ctx, repository)
	if err != nil {
		return nil, "", err
	}
	return client, runplan.EphemeralRef(repository, host), nil
}

// RollbackResult is what a rollback did, or would do.
type RollbackResult struct {
	// The digest the floating tag pointed at when the rollback read it.
	From string
	// The digest it moves back to.
	To string
	// How many promotions back To is (0: the tag already pointed there).
	Steps int
	// What happened to the tag: moved, would move or unchanged.
	Action string
	// The revision of the image moved back to, from its promotion record.
	Revision string
	DryRun   bool
	// +private
	JSONText string
	// +private
	MarkdownText string
}

func newRollbackResult(r *registry.RollbackResult) (*RollbackResult, error) {
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return &RollbackResult{
		From: r.From, To: r.To, Steps: r.Steps, Action: string(r.Action), Revision: r.Target.Revision, DryRun: r.DryRun,
		JSONText: string(j) + "\n", MarkdownText: r.Markdown(),
	}, nil
}

// Json is the whole result: the target's promotion, the tag, the record.
func (r *RollbackResult) Json() string { return r.JSONText }

// Markdown is the result for $GITHUB_STEP_SUMMARY.
func (r *RollbackResult) Markdown() string { return r.MarkdownText }

// PromotionHistory is the moves of a floating tag, newest first.
type PromotionHistory struct {
	// The digest the tag points at now ("none" when it does not exist).
	Current string
	// The moves, newest first.
	Entries []*HistoryEntry
	// Why the history stops where it does.
	End string
	// +private
	JSONText string
	// +private
	MarkdownText string
	// +private
	TableText string
}

// HistoryEntry is one move of a floating tag.
type HistoryEntry struct {
	// When the move was decided (RFC 3339).
	Time string
	// The digest the tag moved to.
	Digest string
	// The digest it pointed at before, empty for the first promotion.
	Replaced string
	// pass, manual or rollback.
	Decision string
	// The commit of the image.
	Revision string
	// The CI run that moved it.
	RunID string
	// Who moved it (rollbacks).
	Actor string
	// Why (rollbacks).
	Reason string
}

func newPromotionHistory(h *registry.History) (*PromotionHistory, error) {
	j, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return nil, err
	}
	var table strings.Builder
	if err := h.WriteTable(&table); err != nil {
		return nil, err
	}
	out := &PromotionHistory{Current: h.Current, End: h.End, JSONText: string(j) + "\n", MarkdownText: h.Markdown(), TableText: table.String()}
	for _, e := range h.Entries {
		out.Entries = append(out.Entries, &HistoryEntry{
			Time: e.Time.UTC().Format(time.RFC3339), Digest: e.Digest, Replaced: e.Replaced, Decision: e.Decision,
			Revision: e.Revision, RunID: e.RunID, Actor: e.Actor, Reason: e.Reason,
		})
	}
	return out, nil
}

// Json is the history: every move with its record's fields.
func (h *PromotionHistory) Json() string { return h.JSONText }

// Markdown is the history as a Markdown table, for $GITHUB_STEP_SUMMARY.
func (h *PromotionHistory) Markdown() string { return h.MarkdownText }

// Table is the history as a plain-text table.
func (h *PromotionHistory) Table() string { return h.TableText }
