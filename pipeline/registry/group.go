package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// GroupResult is what PromoteAll did.
type GroupResult struct {
	// Results has one entry per request, in order: what it did, or (when
	// the group was refused before any write) what it would have done;
	// nil for a request never reached.
	Results []*PromoteResult `json:"results"`
	// Undone are the floating tags moved back because a later image of
	// the group failed, one line each.
	Undone []string `json:"undone,omitempty"`
}

// Lines is what the group did, one line per thing: each image's lines in
// order (an image never reached has none), then what was moved back.
func (g *GroupResult) Lines() []string { return groupLines(g.Results, g.Undone) }

// groupLines is each result's lines in order (nil: never reached), then
// undone.
func groupLines[R interface {
	*PromoteResult | *RollbackResult
	Lines() []string
}](results []R, undone []string) []string {
	var out []string
	for _, r := range results {
		if r != nil {
			out = append(out, r.Lines()...)
		}
	}
	return append(out, undone...)
}

// beforeGroupMember, when set (tests), runs before a group (PromoteAll,
// RollbackAll) moves request i, after the group's plan passed.
var beforeGroupMember func(i int)

// PromoteAll promotes the images of one run together, so that their
// floating tags move for all of them or for none.
//
//  1. Every request is planned first (a dry run): an immutable tag that
//     holds another image, or a floating tag no longer at the baseline
//     that was tested, refuses the whole group before anything is written.
//  2. The images are promoted in order (Promote: copy, immutable tags,
//     record, then the floating tags, each a compare-and-swap).
//  3. When one fails, the floating tags the earlier ones moved go back to
//     their baselines, only where they still point at what this group
//     wrote: by Rollback (a rollback record) where the promotion history
//     holds the baseline, else by rewriting (or, with no baseline, deleting)
//     the tag. Each is reported in Undone and in its image's result.
//
// Immutable tags and records already written stay: they name this run's
// images, and a re-run promotes the same images again.
func (c *Client) PromoteAll(ctx context.Context, reqs []PromoteRequest) (*GroupResult, error) {
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%w: no image to promote", ErrInvalidRequest)
	}
	results, undone, err := allOrNothing(len(reqs), reqs[0].DryRun, "promoted",
		func(i int) string { return reqs[i].To.String() },
		func(i int, dry bool) (*PromoteResult, error) {
			req := reqs[i]
			req.DryRun = dry
			return c.Promote(ctx, req)
		},
		func(j int, res *PromoteResult, why string) ([]string, error) {
			return c.undoFloating(ctx, reqs[j], res, why)
		})
	return &GroupResult{Results: results, Undone: undone}, err
}

// allOrNothing runs a group of n moves (a promotion or a rollback of each
// image): first each as a dry run, where any error refuses the whole group
// before anything is written; then each for real, in order (unless dry);
// when one fails, undo takes back the ones before it, last first, and what
// it did is returned as undone lines. name names request i in errors, done
// says what a move does ("promoted").
func allOrNothing[R any](n int, dry bool, done string, name func(int) string,
	move func(i int, dry bool) (R, error), undo func(j int, res R, why string) ([]string, error)) ([]R, []string, error) {
	results := make([]R, n)
	for i := range n {
		res, err := move(i, true)
		results[i] = res
		if err != nil {
			return results, nil, fmt.Errorf("image %d of %d (%s): nothing was %s: %w", i+1, n, name(i), done, err)
		}
	}
	if dry {
		return results, nil, nil
	}
	clear(results)
	for i := range n {
		if beforeGroupMember != nil {
			beforeGroupMember(i)
		}
		res, err := move(i, false)
		results[i] = res
		if err == nil {
			continue
		}
		err = fmt.Errorf("image %d of %d (%s): %w", i+1, n, name(i), err)
		why := fmt.Sprintf("all or nothing: %s was not %s", name(i), done)
		var undone []string
		for j := range slices.Backward(results[:i]) {
			lines, uerr := undo(j, results[j], why)
			undone = append(undone, lines...)
			err = errors.Join(err, uerr)
		}
		return results, undone, err
	}
	return results, nil, nil
}

// undoFloating moves back the floating tags res moved for req.
func (c *Client) undoFloating(ctx context.Context, req PromoteRequest, res *PromoteResult, why string) ([]string, error) {
	exp, err := ParseExpect(req.Expect)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var lines []string
	var errs []error
	for _, tr := range res.Tags {
		if tr.Kind != KindFloating || tr.Action != Moved {
			continue
		}
		tag := req.To.Tag(tr.Tag)
		err := c.undoTag(ctx, req, tr.Tag, tr.To, exp, why)
		if err != nil {
			errs = append(errs, fmt.Errorf("moving %s back to %s failed, it points at %s: %w", tag, exp, tr.To, err))
			continue
		}
		setTag(res, tr.Tag, KindFloating, TagResult{Tag: tr.Tag, Kind: KindFloating, Action: RolledBack, From: tr.To, To: exp.String()})
		lines = append(lines, fmt.Sprintf("%s rolled back %s -> %s (%s)", tag, tr.To, exp, why))
	}
	return lines, errors.Join(errs...)
}

// undoTag moves one floating tag back from cand to exp, if it still
// points at cand.
func (c *Client) undoTag(ctx context.Context, req PromoteRequest, tag, cand string, exp Expectation, why string) error {
	s, err := c.session(ctx)
	if err != nil {
		return err
	}
	ref := req.To.Tag(tag)
	cur, ok, err := s.lookup(ref)
	switch {
	case err != nil:
		return err
	case !ok || cur.DigestStr() != cand:
		// Moved since by someone else: theirs stays.
		return &BaselineMovedError{Tag: ref.String(), From: cand, Current: digestOrNone(cur, ok)}
	case exp.None:
		// Not every registry deletes a tag alone (distribution 2.8 does
		// not): the error then says the tag stays.
		if err := s.pusher.Delete(ctx, ref); err != nil {
			return fmt.Errorf("deleting the tag (it did not exist before): %w", err)
		}
		return nil
	}
	// The move back is recorded just after the promotion it undoes, so
	// that the history orders the two.
	_, err = c.Rollback(ctx, RollbackRequest{
		Repo: req.To, Tag: tag, To: exp.Digest.String(), Reason: why,
		RunID: req.Record.RunID, Time: req.Record.Time.Add(time.Millisecond),
	})
	if !errors.Is(err, ErrNoRollbackTarget) {
		return err
	}
	// The history does not hold the baseline (it was not promoted by
	// Slipway): point the tag back without a record.
	base, err := s.get(req.To.Digest(exp.Digest.String()))
	if err != nil {
		return err
	}
	return s.put(ref, base)
}

// GroupRollbackResult is what RollbackAll did.
type GroupRollbackResult struct {
	// Results has one entry per request, in order: what it did, or (when
	// the group was refused before any move) what it would have done;
	// nil for a request never reached.
	Results []*RollbackResult `json:"results"`
	// Undone are the rollbacks moved forward again because a later image
	// of the group failed, one line each.
	Undone []string `json:"undone,omitempty"`
}

// Lines is what the group rollback did, one line per thing.
func (g *GroupRollbackResult) Lines() []string { return groupLines(g.Results, g.Undone) }

// RollbackAll moves the floating tag of each image of a group back
// together (the images a run promotes with PromoteAll), so that they go
// back to the digests they held together, for all of them or for none:
//
//  1. Every request is planned first (a dry run): one that the history
//     does not allow refuses the whole group before anything moves.
//  2. The tags move back in order (Rollback: a compare-and-swap, a
//     rollback record naming the group).
//  3. When one fails, the tags the earlier ones moved go forward again to
//     where they were, where they still point at what this rollback
//     wrote (each with a record), and each is reported in Undone.
//
// A re-run of a group rollback that happened (the same run id) changes
// nothing, image by image, and says so.
func (c *Client) RollbackAll(ctx context.Context, reqs []RollbackRequest) (*GroupRollbackResult, error) {
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%w: no image to roll back", ErrInvalidRequest)
	}
	group := make([]string, len(reqs))
	for i, r := range reqs {
		group[i] = r.Repo.String()
	}
	results, undone, err := allOrNothing(len(reqs), reqs[0].DryRun, "rolled back",
		func(i int) string { return reqs[i].Repo.String() },
		func(i int, dry bool) (*RollbackResult, error) {
			req := reqs[i]
			req.DryRun, req.Group = dry, group
			return c.Rollback(ctx, req)
		},
		func(j int, res *RollbackResult, why string) ([]string, error) {
			line, err := c.undoRollback(ctx, reqs[j], res, why)
			if line == "" {
				return nil, err
			}
			return []string{line}, err
		})
	return &GroupRollbackResult{Results: results, Undone: undone}, err
}

// undoRollback moves a floating tag that res moved back forward again, to
// the digest it held before, if it still points where the rollback left it.
func (c *Client) undoRollback(ctx context.Context, req RollbackRequest, res *RollbackResult, why string) (string, error) {
	if res == nil || res.Action != Moved {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	tag := req.Repo.Tag(req.Tag)
	_, err := c.Promote(ctx, PromoteRequest{
		Source: req.Repo.Digest(res.From), To: req.Repo, Floating: []string{req.Tag}, Expect: res.To,
		Record:   PromotionRecord{Decision: DecisionRollback, RunID: req.RunID, Actor: req.Actor, Reason: why, Time: req.Time.Add(time.Millisecond), Group: req.Group},
		rollback: true,
	})
	if err != nil {
		return "", fmt.Errorf("moving %s forward again to %s failed, it points at %s: %w", tag, res.From, res.To, err)
	}
	res.Action = RolledBack
	return fmt.Sprintf("%s moved forward again %s -> %s (%s)", tag, res.To, res.From, why), nil
}

// JSON renders the group rollback's result.
func (g *GroupRollbackResult) JSON() (string, error) { return indentJSON(g) }

// Markdown renders the group rollback's result for a job summary.
func (g *GroupRollbackResult) Markdown() string {
	var b strings.Builder
	title := "Rollback of the group"
	if len(g.Results) > 0 && g.Results[0] != nil && g.Results[0].DryRun {
		title += " (dry run)"
	}
	fmt.Fprintf(&b, "### %s\n\n", title)
	for _, l := range g.Lines() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	return b.String()
}
