package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
)

// DecisionRollback: a floating tag moved back to an image it pointed at
// before (Rollback). The record's Baseline is the digest it replaced.
const DecisionRollback = "rollback"

// ErrNoRollbackTarget: the promotion history does not say where to go back
// to (no record, not that many promotions, the image is gone, or --to
// names a digest the tag never pointed at).
var ErrNoRollbackTarget = errors.New("no rollback target")

// maxReason bounds a rollback's Reason and Actor, in bytes.
const maxReason = 500

// RollbackRequest moves a floating tag back through its promotion history.
type RollbackRequest struct {
	// Repo holds the floating tag.
	Repo name.Repository
	// Tag is the floating tag, e.g. "stable".
	Tag string
	// To is the digest to go back to ("sha256:…" or "repo@sha256:…"): one
	// the tag's promotion history holds. Empty: Steps back.
	To string
	// Steps is how many promotions back to go (0 means 1). A rollback
	// record is not a step: after A → B → C and a rollback to B, one step
	// back is A.
	Steps int
	// DryRun finds the target and writes nothing.
	DryRun bool
	// Reason, Actor (who) and RunID (what run) go into the record.
	Reason, Actor, RunID string
	// Group, for RollbackAll, lists the repositories rolled back together:
	// it goes into the record.
	Group []string
	// Time is when the rollback was decided, injected by the caller.
	Time time.Time
}

// RollbackResult is what a rollback did, or would do.
type RollbackResult struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// From is the digest the tag pointed at when the rollback read it.
	From string `json:"from"`
	// To is the digest it moves back to; Steps how many promotions back
	// that is (0: the tag already points there).
	To    string `json:"to"`
	Steps int    `json:"steps"`
	// Target is the promotion that first put To behind the tag: its
	// revision, run and time.
	Target HistoryEntry `json:"target"`
	DryRun bool         `json:"dryRun"`
	// Done is true when this run (RunID) rolled the tag back already: a
	// re-run of the rollback, which changes nothing (Action unchanged).
	Done bool `json:"done,omitempty"`
	// Action is the tag's: moved, would move, unchanged or refused.
	Action Action `json:"action"`
	// Promotion is the move itself (the record and the tag), when one was
	// attempted.
	Promotion *PromoteResult `json:"promotion,omitempty"`
}

// Lines renders the result for people, one line per thing.
func (r *RollbackResult) Lines() []string {
	tag := r.Repository + ":" + r.Tag
	target := fmt.Sprintf("%s (promoted %s", r.To, r.Target.Time.UTC().Format(time.RFC3339))
	if r.Target.Revision != "" {
		target += ", revision " + r.Target.Revision
	}
	if r.Target.RunID != "" {
		target += ", run " + r.Target.RunID
	}
	target += ")"
	var out []string
	switch {
	case r.Done:
		out = append(out, fmt.Sprintf("%s: run %s rolled it back to %s at %s already: nothing to do", tag, r.Target.RunID, r.To, r.Target.Time.UTC().Format(time.RFC3339)))
	case r.Action == Unchanged:
		out = append(out, fmt.Sprintf("%s already points at %s: nothing to do", tag, target))
	default:
		out = append(out, fmt.Sprintf("%s: %s from %s back to %s, %d step(s) back", tag, r.Action, r.From, target, r.Steps))
	}
	if p := r.Promotion; p != nil {
		rec := "rollback record"
		if p.Record != "" {
			rec += " " + p.Record
		}
		out = append(out, rec+": "+string(p.RecordAct))
	}
	return out
}

// Markdown renders the result for a job summary.
func (r *RollbackResult) Markdown() string {
	var b strings.Builder
	title := "Rollback"
	if r.DryRun {
		title += " (dry run)"
	}
	fmt.Fprintf(&b, "### %s of `%s:%s`\n\n", title, r.Repository, r.Tag)
	for _, l := range r.Lines() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	return b.String()
}

// RollbackTarget is a digest a floating tag can go back to.
type RollbackTarget struct {
	Digest string `json:"digest"`
	// Steps back from the digest the tag points at now.
	Steps int `json:"steps"`
	// Promotion is the record that first put Digest behind the tag.
	Promotion HistoryEntry `json:"promotion"`
}

// RollbackTargets returns the digests cur's floating tag can roll back to,
// 1 to depth steps back, nearest first: retention keeps them. A history
// shorter than depth returns what there is.
func (c *Client) RollbackTargets(ctx context.Context, cur name.Digest, tag string, depth int) ([]RollbackTarget, error) {
	if depth <= 0 {
		return nil, nil
	}
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	steps, _, err := newWalker(s, cur.Context(), tag, false).walk(cur, depth, "")
	if err != nil {
		return nil, err
	}
	var out []RollbackTarget
	for i, st := range steps {
		if i > 0 {
			out = append(out, RollbackTarget{Digest: st.digest.DigestStr(), Steps: i, Promotion: entryOf(st.rec)})
		}
	}
	return out, nil
}

func validText(what, s string) error {
	if len(s) > maxReason {
		return fmt.Errorf("%w: %s is %d bytes, at most %d", ErrInvalidRequest, what, len(s), maxReason)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: %s must be one line of text", ErrInvalidRequest, what)
	}
	return nil
}

func (req *RollbackRequest) validate() (Expectation, error) {
	bad := func(format string, args ...any) (Expectation, error) {
		return Expectation{}, fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
	}
	if req.Repo.RepositoryStr() == "" {
		return bad("a repository is required")
	}
	if err := ValidateTag(req.Tag); err != nil {
		return Expectation{}, err
	}
	if req.Steps < 0 {
		return bad("steps %d: want 1 or more", req.Steps)
	}
	var to Expectation
	if req.To != "" {
		var err error
		if to, err = ParseExpect(req.To); err != nil || to.None {
			return bad("to %q: want a sha256 digest", req.To)
		}
		if req.Steps > 1 {
			return bad("give a digest to go back to or a number of steps, not both")
		}
	}
	if req.Time.IsZero() {
		return bad("rollback time is required")
	}
	for what, v := range map[string]string{"reason": req.Reason, "actor": req.Actor, "run id": req.RunID} {
		if err := validText(what, v); err != nil {
			return Expectation{}, err
		}
	}
	return to, nil
}

// Rollback moves a floating tag back to a digest it pointed at before: the
// one Steps promotions back in its history (see History: rollback records
// are not steps), or To. It reads the tag once; the move is Promote's,
// with the digest read as the baseline: under the same lock and lease, the
// tag re-read just before the write, the record (decision rollback,
// Baseline the digest replaced) written before the tag moves. A tag that
// moved since it was read is left alone (ErrBaselineMoved), and so is
// everything else when the history does not say where to go
// (ErrNoRollbackTarget). Errors name the tag.
func (c *Client) Rollback(ctx context.Context, req RollbackRequest) (*RollbackResult, error) {
	to, err := req.validate()
	if err != nil {
		return nil, err
	}
	ref := req.Repo.Tag(req.Tag)
	fail := func(err error) error { return fmt.Errorf("rolling back %s: %w", ref, err) }
	refuse := func(format string, args ...any) error {
		return fail(fmt.Errorf("%w: %s", ErrNoRollbackTarget, fmt.Sprintf(format, args...)))
	}
	s, err := c.session(ctx)
	if err != nil {
		return nil, fail(err)
	}
	cur, ok, err := s.lookup(ref)
	if err != nil {
		return nil, fail(err)
	}
	if !ok {
		return nil, refuse("the tag does not exist")
	}
	res := &RollbackResult{Repository: req.Repo.String(), Tag: req.Tag, From: cur.DigestStr(), DryRun: req.DryRun}
	// A re-run of a rollback that happened (a CI job run again keeps its
	// run id) finds the tag where that rollback left it: it changes
	// nothing, where going Steps back again would move the tag further.
	if req.RunID != "" {
		last, err := newWalker(s, req.Repo, req.Tag, true).newest(cur, time.Time{})
		if err != nil {
			return nil, fail(err)
		}
		if last != nil && last.Decision == DecisionRollback && last.RunID == req.RunID {
			res.To, res.Target, res.Done, res.Action = cur.DigestStr(), entryOf(*last), true, Unchanged
			return res, nil
		}
	}
	w := newWalker(s, req.Repo, req.Tag, false)
	back := max(req.Steps, 1)
	stop := ""
	if to.Set {
		back, stop = maxWalk, to.Digest.String()
	}
	steps, end, err := w.walk(cur, back, stop)
	if err != nil {
		return nil, fail(err)
	}
	switch {
	case len(steps) == 0:
		return res, refuse("%s; the history does not say where to go back to", end)
	case stop != "" && steps[len(steps)-1].digest.DigestStr() != stop:
		return res, refuse("%s is not in its promotion history (%d promotions read back from %s: %s)", stop, len(steps), cur.DigestStr(), end)
	case stop == "" && len(steps) <= back:
		return res, refuse("cannot go %d promotion(s) back from %s: %d earlier promotion(s) on record (%s)", back, cur.DigestStr(), len(steps)-1, end)
	}
	target := steps[len(steps)-1]
	res.To, res.Steps, res.Target = target.digest.DigestStr(), len(steps)-1, entryOf(target.rec)
	if res.To == res.From {
		res.Action = Unchanged
		return res, nil
	}
	if _, ok, err := s.lookup(target.digest); err != nil {
		return res, fail(err)
	} else if !ok {
		return res, refuse("the image %d promotion(s) back, %s, is gone from %s (deleted by retention?)", res.Steps, res.To, req.Repo)
	}
	p, err := c.Promote(ctx, PromoteRequest{
		Source: target.digest, To: req.Repo, Floating: []string{req.Tag}, Expect: cur.DigestStr(), DryRun: req.DryRun,
		Record: PromotionRecord{
			Decision: DecisionRollback, Revision: target.rec.Revision, RunID: req.RunID,
			Actor: req.Actor, Reason: req.Reason, Time: req.Time, Group: slices.Clone(req.Group),
		},
		rollback: true,
	})
	res.Promotion = p
	res.Action = NotDone
	if p != nil {
		for _, t := range p.Tags {
			if t.Tag == req.Tag && t.Kind == KindFloating {
				res.Action = t.Action
			}
		}
	}
	if err != nil {
		if errors.Is(err, ErrBaselineMoved) {
			return res, fail(fmt.Errorf("it moved since it was read: %w", err))
		}
		return res, fail(err)
	}
	return res, nil
}
