package retention

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

// RollbackTarget is a digest a floating tag can roll back to (`slipway
// rollback`): Plan keeps it, and every tag on it, whatever the rules say.
type RollbackTarget struct {
	Digest v1.Hash `json:"digest"`
	// Tag is the floating tag, Steps how many promotions back it is.
	Tag   string `json:"tag"`
	Steps int    `json:"steps"`
}

// reason is why the target (tag "") or a tag on it is kept.
func (r *RollbackTarget) reason(tag string) Reason {
	back := fmt.Sprintf("%d promotion(s) back", r.Steps)
	if tag == "" {
		return Reason{Code: KeptRollback, Text: fmt.Sprintf("rollback target of %s (%s)", r.Tag, back)}
	}
	return Reason{Code: KeptRollback, Text: fmt.Sprintf("%s is on a rollback target of %s (%s)", tag, r.Tag, back)}
}

// rollbackOf returns the nearest target at d, or nil.
func rollbackOf(rs []RollbackTarget, d v1.Hash) *RollbackTarget {
	var best *RollbackTarget
	for i := range rs {
		if rs[i].Digest == d && (best == nil || rs[i].Steps < best.Steps) {
			best = &rs[i]
		}
	}
	return best
}

// RollbackReader finds where a floating tag can roll back to, from the
// promotion records: registry.Client.RollbackTargets.
type RollbackReader interface {
	RollbackTargets(ctx context.Context, cur name.Digest, tag string, depth int) ([]registry.RollbackTarget, error)
}

// FindRollbackTargets walks back the promotion history of every floating
// tag in f (the policy's, and tags the grammar calls floating), depth
// promotions, and returns the digests they can roll back to that f holds,
// with a note for the plan about each. Depth 0 finds none.
func FindRollbackTargets(ctx context.Context, r RollbackReader, repo name.Repository, p *Policy, f *Facts, depth int) ([]RollbackTarget, []string, error) {
	if depth <= 0 {
		return nil, nil, nil
	}
	var out []RollbackTarget
	var notes []string
	for _, d := range f.sortedDigests() {
		for _, tag := range realTags(f.Manifests[d]) {
			if !p.isFloating(tag) {
				continue
			}
			ts, err := r.RollbackTargets(ctx, repo.Digest(d.String()), tag, depth)
			if err != nil {
				return nil, nil, fmt.Errorf("reading the promotion history of %s: %w", repo.Tag(tag), err)
			}
			for _, t := range ts {
				h, err := v1.NewHash(t.Digest)
				if err != nil {
					return nil, nil, fmt.Errorf("promotion history of %s: %w", repo.Tag(tag), err)
				}
				m, ok := f.Manifests[h]
				if !ok {
					continue // gone already
				}
				rt := RollbackTarget{Digest: h, Tag: tag, Steps: t.Steps}
				out = append(out, rt)
				on := ""
				if tags := realTags(m); len(tags) > 0 {
					on = fmt.Sprintf(" %v", tags)
				}
				notes = append(notes, fmt.Sprintf("kept: %s%s is a %s", short(h), on, rt.reason("").Text))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Tag != out[j].Tag {
			return out[i].Tag < out[j].Tag
		}
		return out[i].Steps < out[j].Steps
	})
	return out, notes, nil
}

// findRollbackTargets is FindRollbackTargets for Run, with the config's
// depth, through the promotion-record reader of o.Access; its notes go to
// facts.
func findRollbackTargets(ctx context.Context, o RunOptions, repo name.Repository, p *Policy, facts *Facts) ([]RollbackTarget, error) {
	depth := o.Config.Retention.RollbackTargets
	if depth <= 0 {
		return nil, nil
	}
	if o.Access.Records == nil {
		facts.Notes = append(facts.Notes, "rollback targets not kept: no promotion-record reader")
		return nil, nil
	}
	ts, notes, err := FindRollbackTargets(ctx, o.Access.Records, repo, p, facts, depth)
	facts.Notes = append(facts.Notes, notes...)
	return ts, err
}
