package retention

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// Backend is a registry the executor reads and mutates.
type Backend interface {
	// Facts reads the repository as it is now.
	Facts(ctx context.Context) (*Facts, error)
	// Delete removes a manifest by digest, and with it every tag on it.
	// A manifest already gone is not an error.
	Delete(ctx context.Context, m *Manifest) error
	// Untag removes tag, which points at d, leaving d and its other tags.
	// A tag already gone is not an error; a tag that now points elsewhere is
	// ErrChanged.
	Untag(ctx context.Context, tag string, d v1.Hash) error
}

// Sentinel errors callers branch on.
var (
	// ErrChanged: the registry changed since the plan was made.
	ErrChanged = errors.New("changed since the plan")
	// ErrValidation: after applying, a kept tag or index is left dangling.
	ErrValidation = errors.New("validation failed")
)

// Outcome is what happened to one item.
type Outcome struct {
	Item Item `json:"item"`
	// Status: done, gone (already gone), refused, failed, skipped.
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Outcome statuses.
const (
	StatusDone    = "done"
	StatusGone    = "gone"
	StatusRefused = "refused"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Result reports an Apply.
type Result struct {
	Outcomes []Outcome `json:"outcomes"`
	// Problems found by the validation pass; non-empty means ErrValidation.
	Problems []string `json:"problems,omitempty"`
}

// Count returns how many outcomes have status.
func (r *Result) Count(status string) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == status {
			n++
		}
	}
	return n
}

type applyOptions struct {
	jobs  int
	facts *Facts
}

// WithFacts gives Apply the facts the plan was made from a moment ago
// (prune --confirm): Apply checks the plan against them instead of
// listing the repository again, one listing less (on ghcr.io, a page of
// API requests per 100 versions). Default: read afresh, as a reviewed
// plan (--apply) may be old.
func WithFacts(f *Facts) ApplyOption {
	return func(o *applyOptions) error {
		if f == nil {
			return errors.New("WithFacts: nil facts")
		}
		o.facts = f
		return nil
	}
}

// ApplyOption configures Apply.
type ApplyOption func(*applyOptions) error

// WithApplyJobs sets how many deletes run at once. Default 4; at least 1.
func WithApplyJobs(n int) ApplyOption {
	return func(o *applyOptions) error {
		if n < 1 {
			return fmt.Errorf("apply jobs must be at least 1, got %d", n)
		}
		o.jobs = n
		return nil
	}
}

// Apply carries out p through b: it reads the registry afresh, refuses the
// items whose digest or tags changed since the plan (and whatever those
// still need), runs untags then deletes wave by wave (parents and
// referrers before children) with bounded concurrency, and finally
// validates that every kept tag resolves and every kept index has its
// children. Item failures are in the Result; the error is non-nil when an
// item failed (joined item errors) or validation failed (ErrValidation).
func Apply(ctx context.Context, b Backend, p *Plan, opts ...ApplyOption) (*Result, error) {
	o := applyOptions{jobs: 4}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	before := o.facts
	if before == nil {
		var err error
		if before, err = b.Facts(ctx); err != nil {
			return nil, fmt.Errorf("reading registry before apply: %w", err)
		}
	}
	res := &Result{}
	todo, outcomes := Check(p, before)
	res.Outcomes = append(res.Outcomes, outcomes...)

	waves := make(map[int][]Item)
	var order []int
	for _, it := range todo {
		if _, ok := waves[it.Wave]; !ok {
			order = append(order, it.Wave)
		}
		waves[it.Wave] = append(waves[it.Wave], it)
	}
	sort.Ints(order)
	needs := neededBy(before)
	var mu sync.Mutex
	failed := make(map[v1.Hash]bool) // digests a failed or skipped delete left behind
	var errs []error
	for _, w := range order {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(o.jobs)
		for _, it := range waves[w] {
			d, _ := v1.NewHash(it.Digest)
			mu.Lock()
			var blocker v1.Hash
			blocked := false
			for _, n := range needs[d] {
				if failed[n] {
					blocker, blocked = n, true
					break
				}
			}
			if blocked {
				failed[d] = true
				res.Outcomes = append(res.Outcomes, Outcome{Item: it, Status: StatusSkipped,
					Detail: "still needed by " + short(blocker) + ", which was not deleted"})
				mu.Unlock()
				continue
			}
			mu.Unlock()
			g.Go(func() error {
				var err error
				switch it.Action {
				case ActionDelete:
					err = b.Delete(gctx, before.Manifests[d])
				case ActionUntag:
					err = b.Untag(gctx, it.Tag, d)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if it.Action == ActionDelete {
						failed[d] = true
					}
					status := StatusFailed
					if errors.Is(err, ErrChanged) {
						status = StatusRefused
					}
					res.Outcomes = append(res.Outcomes, Outcome{Item: it, Status: status, Detail: err.Error()})
					errs = append(errs, fmt.Errorf("%s %s: %w", it.Action, itemName(it), err))
					return nil
				}
				res.Outcomes = append(res.Outcomes, Outcome{Item: it, Status: StatusDone})
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	sortOutcomes(res.Outcomes)

	after, err := b.Facts(ctx)
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("reading registry to validate: %w", err))...)
	}
	res.Problems = Validate(p, before, after, res)
	if len(res.Problems) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s", ErrValidation, strings.Join(res.Problems, "; ")))
	}
	return res, errors.Join(errs...)
}

func itemName(it Item) string {
	if it.Tag != "" {
		return it.Tag
	}
	return short(mustHash(it.Digest))
}

func mustHash(s string) v1.Hash {
	h, _ := v1.NewHash(s)
	return h
}

func sortOutcomes(os []Outcome) {
	sort.SliceStable(os, func(i, j int) bool {
		a, b := os[i].Item, os[j].Item
		if a.Wave != b.Wave {
			return a.Wave < b.Wave
		}
		if a.Digest != b.Digest {
			return a.Digest < b.Digest
		}
		return a.Tag < b.Tag
	})
}

// neededBy maps each digest to the digests that need it: indexes listing
// it, and referrers (and fallback indexes, cosign's tagged images)
// pointing at it as subject.
func neededBy(f *Facts) map[v1.Hash][]v1.Hash {
	needs := make(map[v1.Hash][]v1.Hash)
	for _, d := range f.sortedDigests() {
		m := f.Manifests[d]
		for _, c := range m.Children {
			needs[c] = append(needs[c], d)
		}
		if m.Subject != nil {
			needs[*m.Subject] = append(needs[*m.Subject], d)
		}
		for _, t := range m.Tags {
			if s, ok := subjectTag(t); ok {
				needs[s] = append(needs[s], d)
			}
		}
	}
	return needs
}

// Check compares a plan with the registry as it is now. It returns the
// items still to do and the outcomes of the others: gone (already done),
// refused (a tag moved, a digest gained a tag the plan did not review, or
// something not deleted still needs it).
func Check(p *Plan, now *Facts) ([]Item, []Outcome) {
	var outcomes []Outcome
	tags := now.tagIndex()
	cand := make(map[v1.Hash]Item)
	var untags []Item
	for _, it := range p.Items {
		d, err := v1.NewHash(it.Digest)
		if err != nil {
			outcomes = append(outcomes, Outcome{Item: it, Status: StatusRefused, Detail: "bad digest"})
			continue
		}
		switch it.Action {
		case ActionUntag:
			cur, ok := tags[it.Tag]
			switch {
			case !ok:
				outcomes = append(outcomes, Outcome{Item: it, Status: StatusGone})
			case cur != d:
				outcomes = append(outcomes, Outcome{Item: it, Status: StatusRefused,
					Detail: fmt.Sprintf("tag %s now points at %s", it.Tag, short(cur))})
			default:
				untags = append(untags, it)
			}
		case ActionDelete:
			m, ok := now.Manifests[d]
			if !ok {
				moved := ""
				for _, t := range it.Tags {
					if cur, there := tags[t]; there && cur != d {
						moved = fmt.Sprintf("tag %s now points at %s", t, short(cur))
						break
					}
				}
				if moved != "" {
					outcomes = append(outcomes, Outcome{Item: it, Status: StatusRefused, Detail: moved})
				} else {
					outcomes = append(outcomes, Outcome{Item: it, Status: StatusGone})
				}
				continue
			}
			reviewed := make(map[string]bool)
			for _, t := range it.Tags {
				reviewed[t] = true
			}
			var extra []string
			for _, t := range m.Tags {
				if !reviewed[t] {
					extra = append(extra, t)
				}
			}
			if len(extra) > 0 {
				sort.Strings(extra)
				outcomes = append(outcomes, Outcome{Item: it, Status: StatusRefused,
					Detail: "digest now also has tags " + strings.Join(extra, ", ")})
				continue
			}
			cand[d] = it
		default:
			outcomes = append(outcomes, Outcome{Item: it, Status: StatusRefused, Detail: "unknown action"})
		}
	}
	// Refuse deletes that something staying still needs, until stable.
	needs := neededBy(now)
	for changed := true; changed; {
		changed = false
		for _, d := range sortedKeys(cand) {
			for _, n := range needs[d] {
				if _, going := cand[n]; !going {
					outcomes = append(outcomes, Outcome{Item: cand[d], Status: StatusRefused,
						Detail: "still needed by " + short(n) + ", which stays"})
					delete(cand, d)
					changed = true
					break
				}
			}
		}
	}
	todo := untags
	for _, d := range sortedKeys(cand) {
		todo = append(todo, cand[d])
	}
	sortOutcomes(outcomes)
	return todo, outcomes
}

func sortedKeys(m map[v1.Hash]Item) []v1.Hash {
	ks := make([]v1.Hash, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].String() < ks[j].String() })
	return ks
}

// Validate checks the registry after an apply: every tag kept at the start
// still resolves, every index still there has its children, and every item
// reported done is gone. It returns the problems found.
func Validate(p *Plan, before, after *Facts, res *Result) []string {
	var problems []string
	afterTags := after.tagIndex()
	beforeTags := before.tagIndex()
	planned := make(map[string]bool)
	for _, it := range p.Items {
		if it.Action == ActionUntag {
			planned[it.Tag] = true
		}
		for _, t := range it.Tags {
			planned[t] = true
		}
	}
	for _, k := range p.Kept {
		if k.Tag == "" || planned[k.Tag] {
			continue
		}
		if _, was := beforeTags[k.Tag]; !was {
			continue
		}
		if _, ok := afterTags[k.Tag]; !ok {
			problems = append(problems, fmt.Sprintf("kept tag %s no longer resolves", k.Tag))
		}
	}
	// Tags not in the plan at all (pushed since) must survive too.
	for t := range beforeTags {
		if planned[t] {
			continue
		}
		if _, ok := afterTags[t]; !ok {
			problems = append(problems, fmt.Sprintf("tag %s, outside the plan, no longer resolves", t))
		}
	}
	for _, d := range after.sortedDigests() {
		for _, c := range after.Manifests[d].Children {
			if _, ok := after.Manifests[c]; !ok {
				problems = append(problems, fmt.Sprintf("index %s lacks its child %s", short(d), short(c)))
			}
		}
	}
	for _, o := range res.Outcomes {
		if o.Status != StatusDone {
			continue
		}
		d := mustHash(o.Item.Digest)
		switch o.Item.Action {
		case ActionDelete:
			if _, ok := after.Manifests[d]; ok {
				problems = append(problems, fmt.Sprintf("deleted %s is still there", short(d)))
			}
		case ActionUntag:
			if cur, ok := afterTags[o.Item.Tag]; ok && cur == d {
				problems = append(problems, fmt.Sprintf("untagged %s still points at %s", o.Item.Tag, short(d)))
			}
		}
	}
	sort.Strings(problems)
	return dedupe(problems)
}

func dedupe(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}
