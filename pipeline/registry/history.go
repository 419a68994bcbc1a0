package registry

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// The history of a floating tag is not stored in one place: every move
// writes a promotion record on the digest the tag moved to, and the record
// says what the tag pointed at before (Baseline). From the digest the tag
// points at now, the newest record that moved the tag there names the
// digest before it, whose newest record older than that names the one
// before, and so on: a chain read backwards, one digest at a time.
//
// Two walks follow the chain. History follows every move, rollbacks
// included: what happened. The lineage (rollback targets) skips rollback
// records: a rollback to B says "B again", and what came before B is what
// came before B's own promotion. So after A → B → C and a rollback to B,
// the next rollback goes to A, not back to C.

// DefaultHistoryLimit is how many moves History reads when its limit is 0.
const DefaultHistoryLimit = 20

// maxWalk bounds every walk of a chain (a loop is impossible with distinct
// record times, but records are data).
const maxWalk = 1000

// HistoryEntry is one move of a floating tag: the record that made it.
type HistoryEntry struct {
	// Time the move was decided (the record's time).
	Time time.Time `json:"time"`
	// Digest the tag moved to.
	Digest string `json:"digest"`
	// Replaced is the digest the tag pointed at before ("" for the first
	// promotion, when the tag did not exist).
	Replaced string `json:"replaced,omitempty"`
	// Decision: pass, manual or rollback.
	Decision string `json:"decision"`
	Revision string `json:"revision,omitempty"`
	RunID    string `json:"runId,omitempty"`
	Actor    string `json:"actor,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

func entryOf(rec PromotionRecord) HistoryEntry {
	return HistoryEntry{
		Time: rec.Time, Digest: rec.Digest, Replaced: rec.Baseline, Decision: rec.Decision,
		Revision: rec.Revision, RunID: rec.RunID, Actor: rec.Actor, Reason: rec.Reason,
	}
}

// History is the moves of one floating tag, newest first.
type History struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// Current is the digest the tag points at now ("none" when absent).
	Current string         `json:"current"`
	Entries []HistoryEntry `json:"entries"`
	// End says why the history stops where it does.
	End string `json:"end"`
}

// History reads the moves of repo's floating tag from the promotion
// records, newest first, up to limit (0: DefaultHistoryLimit). A tag moved
// by something other than Slipway ends the history there, and End says so.
func (c *Client) History(ctx context.Context, repo name.Repository, tag string, limit int) (*History, error) {
	if err := ValidateTag(tag); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, fmt.Errorf("%w: history limit %d must not be negative", ErrInvalidRequest, limit)
	}
	if limit == 0 {
		limit = DefaultHistoryLimit
	}
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	cur, ok, err := s.lookup(repo.Tag(tag))
	if err != nil {
		return nil, err
	}
	h := &History{Repository: repo.String(), Tag: tag, Current: digestOrNone(cur, ok), Entries: []HistoryEntry{}}
	if !ok {
		h.End = fmt.Sprintf("%s does not exist", repo.Tag(tag))
		return h, nil
	}
	w := newWalker(s, repo, tag, true)
	steps, end, err := w.walk(cur, limit-1, "")
	if err != nil {
		return nil, err
	}
	for _, st := range steps {
		h.Entries = append(h.Entries, entryOf(st.rec))
	}
	h.End = end
	if end == "" {
		h.End = fmt.Sprintf("the %d newest moves; there may be more", limit)
	}
	return h, nil
}

// step is one digest of a walk and the record that put the tag there.
type step struct {
	digest name.Digest
	rec    PromotionRecord
}

// walker follows the chain of one floating tag's records, reading each
// digest's records once.
type walker struct {
	s         *session
	repo      name.Repository
	tag       string
	rollbacks bool // follow rollback records (History), or skip them (lineage)
	recs      map[string][]PromotionRecord
	used      map[string]bool
}

func newWalker(s *session, repo name.Repository, tag string, rollbacks bool) *walker {
	return &walker{s: s, repo: repo, tag: tag, rollbacks: rollbacks, recs: map[string][]PromotionRecord{}, used: map[string]bool{}}
}

// records returns the records of d that moved the tag; a digest that is
// gone has none.
func (w *walker) records(d name.Digest) ([]PromotionRecord, error) {
	if recs, ok := w.recs[d.DigestStr()]; ok {
		return recs, nil
	}
	all, err := w.s.readRecords(d)
	if err != nil && !isNotFoundErr(err) {
		return nil, fmt.Errorf("reading the promotion records of %s: %w", d, err)
	}
	var recs []PromotionRecord
	for _, r := range all {
		if slices.Contains(r.Floating, w.tag) {
			recs = append(recs, r)
		}
	}
	w.recs[d.DigestStr()] = recs
	return recs, nil
}

func recordKey(r PromotionRecord) string {
	return r.Digest + "|" + r.Decision + "|" + r.Baseline + "|" + r.Time.UTC().Format(time.RFC3339Nano)
}

// newest returns the newest record of d that moved the tag no later than
// before (zero: any time) and that the walk has not used yet.
func (w *walker) newest(d name.Digest, before time.Time) (*PromotionRecord, error) {
	recs, err := w.records(d)
	if err != nil {
		return nil, err
	}
	var best *PromotionRecord
	for i := range recs {
		r := &recs[i]
		if w.used[recordKey(*r)] || (!before.IsZero() && r.Time.After(before)) {
			continue
		}
		if !w.rollbacks && r.Decision == DecisionRollback {
			continue
		}
		if best == nil || !r.Time.Before(best.Time) {
			best = r
		}
	}
	if best != nil {
		w.used[recordKey(*best)] = true
	}
	return best, nil
}

// walk follows the chain from cur, the digest the tag points at now: the
// first step is cur itself, then up to back steps further (or, with stop
// set, until a step's digest is stop). It returns the steps and why the
// walk ended where it did.
func (w *walker) walk(cur name.Digest, back int, stop string) ([]step, string, error) {
	var steps []step
	d := cur
	var before time.Time
	for range maxWalk {
		rec, err := w.newest(d, before)
		if err != nil {
			return nil, "", err
		}
		if rec == nil {
			what := "promotion record"
			if !w.rollbacks {
				what = "promotion (not rollback) record"
			}
			if len(steps) == 0 {
				return steps, fmt.Sprintf("no %s of %s on %s: it was not moved there by Slipway", what, w.tag, d.DigestStr()), nil
			}
			return steps, fmt.Sprintf("no earlier %s of %s on %s (deleted, or tagged by hand)", what, w.tag, d.DigestStr()), nil
		}
		steps = append(steps, step{digest: d, rec: *rec})
		if (stop != "" && d.DigestStr() == stop) || len(steps) > back {
			return steps, "", nil
		}
		if rec.Baseline == "" {
			return steps, fmt.Sprintf("%s was the first promotion of %s", d.DigestStr(), w.tag), nil
		}
		d, before = w.repo.Digest(rec.Baseline), rec.Time
	}
	return steps, fmt.Sprintf("stopped after %d records", maxWalk), nil
}
