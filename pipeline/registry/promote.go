package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// ExpectNone is PromoteRequest.Expect when there was no baseline: every
// floating tag must not exist yet.
const ExpectNone = "none"

// PromoteRequest is one promotion.
type PromoteRequest struct {
	// Source is the tested image, by digest (an image or an index).
	Source name.Digest
	// To is the repository that receives it (may be Source's own).
	To name.Repository
	// Tags are immutable: created if absent, left alone if they already
	// point at Source's digest, and never overwritten (ErrTagExists).
	Tags []string
	// Floating tags (stable, latest) move to the digest, last, and only if
	// each still points at Expect.
	Floating []string
	// Expect is the baseline the candidate was tested against: a digest
	// ("sha256:…", or "repo@sha256:…") every floating tag must point at
	// now, or ExpectNone ("none") when there was no baseline and the
	// floating tags must not exist. Empty is accepted only without
	// floating tags: moving one needs an explicit baseline. A floating tag
	// that already points at Source's digest is left as is (a rerun).
	Expect string
	// DryRun computes and returns every action and writes nothing.
	DryRun bool
	// Record is the promotion record to write: Decision (DecisionPass or
	// DecisionManual) and Time are required; Revision, RunID and Baseline
	// are the caller's; Promote fills Digest, Repository, Source, Tags and
	// Floating (and Baseline from Expect when empty).
	Record PromotionRecord

	rollback bool // set by Rollback only: allows DecisionRollback
}

// Action is what happened, or would happen, to one thing.
type Action string

// Actions in a PromoteResult.
const (
	Created     Action = "created"
	Unchanged   Action = "unchanged"
	Moved       Action = "moved"
	Copied      Action = "copied"
	RolledBack  Action = "rolled back"
	Kept        Action = "kept"
	WouldCreate Action = "would create"
	WouldMove   Action = "would move"
	WouldCopy   Action = "would copy"
	WouldWrite  Action = "would write"
	Refused     Action = "refused"
	NotDone     Action = "not done"
)

// Kinds of TagResult.
const (
	KindImmutable = "immutable"
	KindFloating  = "floating"
	KindSignature = "signature" // cosign-style sha256-<hex>.sig/.att/.sbom
)

// TagResult is what happened to one tag.
type TagResult struct {
	Tag    string `json:"tag"`
	Kind   string `json:"kind"`
	Action Action `json:"action"`
	// From is the digest the tag pointed at before a move ("none" when it
	// did not exist); for a refusal, the digest it points at.
	From string `json:"from,omitempty"`
	// To is the digest the tag points at after (or would).
	To string `json:"to"`
}

func (t TagResult) String() string {
	switch t.Action {
	case Moved, WouldMove, RolledBack:
		return fmt.Sprintf("%s tag %s: %s from %s to %s", t.Kind, t.Tag, t.Action, t.From, t.To)
	case Refused:
		return fmt.Sprintf("%s tag %s: %s (points at %s)", t.Kind, t.Tag, t.Action, t.From)
	}
	return fmt.Sprintf("%s tag %s: %s", t.Kind, t.Tag, t.Action)
}

// ReferrerResult is what happened to one referrer of the promoted image.
type ReferrerResult struct {
	Digest       string `json:"digest"`
	ArtifactType string `json:"artifactType,omitempty"`
	Subject      string `json:"subject"`
	Action       Action `json:"action"`
}

// PromoteResult lists everything a promotion did (or, with DryRun, would
// do), in order. It is returned with errors too, as far as it got.
type PromoteResult struct {
	Source    string           `json:"source"`
	Target    string           `json:"target"`
	DryRun    bool             `json:"dryRun"`
	Copy      Action           `json:"copy"`
	Referrers []ReferrerResult `json:"referrers,omitempty"`
	Tags      []TagResult      `json:"tags"`
	Record    string           `json:"record,omitempty"`
	RecordAct Action           `json:"recordAction"`
}

// Lines renders the result for people, one line per thing.
func (r *PromoteResult) Lines() []string {
	var out []string
	srcRepo, _, _ := strings.Cut(r.Source, "@")
	dstRepo, _, _ := strings.Cut(r.Target, "@")
	if srcRepo == dstRepo && r.Copy == Unchanged {
		// Published into this repository (under the staging tag): there
		// was nothing to copy.
		out = append(out, "published "+r.Target)
	} else {
		out = append(out, fmt.Sprintf("image %s: %s from %s", r.Target, r.Copy, r.Source))
	}
	for _, ref := range r.Referrers {
		out = append(out, fmt.Sprintf("referrer %s (%s) of %s: %s", ref.Digest, ref.ArtifactType, ref.Subject, ref.Action))
	}
	for _, t := range r.Tags {
		if t.Kind != KindFloating {
			out = append(out, t.String())
		}
	}
	rec := "promotion record"
	if r.Record != "" {
		rec += " " + r.Record
	}
	out = append(out, rec+": "+string(r.RecordAct))
	for _, t := range r.Tags {
		if t.Kind == KindFloating {
			out = append(out, t.String())
		}
	}
	return out
}

var tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidateTag checks that tag is a valid OCI tag Slipway may write: not
// LeaseTag nor an IsInternalTag name.
func ValidateTag(tag string) error {
	if !tagRe.MatchString(tag) {
		return fmt.Errorf("%w: tag %q must match %s", ErrInvalidRequest, tag, tagRe)
	}
	if IsInternalTag(tag) {
		return fmt.Errorf("%w: tag %q is reserved (lease, referrers or signature tag)", ErrInvalidRequest, tag)
	}
	return nil
}

// Expectation is a parsed PromoteRequest.Expect.
type Expectation struct {
	Set    bool    // false for ""
	None   bool    // "none"
	Digest v1.Hash // otherwise
}

func (e Expectation) String() string {
	switch {
	case !e.Set:
		return ""
	case e.None:
		return ExpectNone
	}
	return e.Digest.String()
}

// ParseExpect parses an Expect value: "", "none", "sha256:<hex>" or
// "<repo>@sha256:<hex>".
func ParseExpect(s string) (Expectation, error) {
	switch {
	case s == "":
		return Expectation{}, nil
	case s == ExpectNone:
		return Expectation{Set: true, None: true}, nil
	}
	dig := s
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		if _, err := name.NewDigest(s); err != nil {
			return Expectation{}, fmt.Errorf("%w: expect %q: %w", ErrInvalidRequest, s, err)
		}
		dig = s[i+1:]
	}
	h, err := v1.NewHash(dig)
	if err != nil {
		return Expectation{}, fmt.Errorf("%w: expect %q: want \"none\" or a sha256 digest: %w", ErrInvalidRequest, s, err)
	}
	return Expectation{Set: true, Digest: h}, nil
}

func (e Expectation) matches(d name.Digest, ok bool) bool {
	if e.None {
		return !ok
	}
	return ok && d.DigestStr() == e.Digest.String()
}

func digestOrNone(d name.Digest, ok bool) string {
	if !ok {
		return ExpectNone
	}
	return d.DigestStr()
}

func (c *Client) validate(req *PromoteRequest) (Expectation, error) {
	bad := func(format string, args ...any) (Expectation, error) {
		return Expectation{}, fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
	}
	if req.Source.RepositoryStr() == "" || req.Source.DigestStr() == "" {
		return bad("a source digest is required")
	}
	if req.To.RepositoryStr() == "" {
		return bad("a target repository is required")
	}
	seen := map[string]bool{}
	for _, t := range slices.Concat(req.Tags, req.Floating) {
		if err := ValidateTag(t); err != nil {
			return Expectation{}, err
		}
		if seen[t] {
			return bad("tag %q given twice", t)
		}
		seen[t] = true
	}
	exp, err := ParseExpect(req.Expect)
	if err != nil {
		return Expectation{}, err
	}
	if len(req.Floating) > 0 && !exp.Set {
		return bad("floating tags need the baseline they were tested against: expect a digest, or %q", ExpectNone)
	}
	switch req.Record.Decision {
	case DecisionPass, DecisionManual:
	case DecisionRollback:
		if !req.rollback {
			return bad("record decision %q: only Rollback writes it", DecisionRollback)
		}
	default:
		return bad("record decision %q: want %q or %q", req.Record.Decision, DecisionPass, DecisionManual)
	}
	if req.Record.Time.IsZero() {
		return bad("record time is required")
	}
	return exp, nil
}

// Promote copies req.Source into req.To by digest and moves its tags. What
// becomes visible in req.To happens in this order: the copy (blobs by
// cross-repository mount within a registry, an index's children, the
// manifest, then the referrers of the image and of an index's children,
// cosign-style tags included); the immutable tags and the promotion record,
// side by side; the floating tags, last, once both are done. (Reads, and
// uploads of the record's blobs, which nothing references yet, overlap the
// copy. When the manifest goes up under its first immutable tag, the record
// goes up beside that write: a failure there can leave a record of a
// promotion that did not complete, never a floating tag moved.)
//
// Every tag is checked before anything is written: a taken immutable tag
// (ErrTagExists) or a moved baseline (ErrBaselineMoved) writes nothing. A
// failure anywhere leaves every floating tag where it was: floating tags
// come last, and one already moved when a later one fails is moved back.
// Floating tags are re-resolved under a process lock and a registry lease
// (see LeaseTag) just before the write, and read back after it. Running
// the same promotion again writes nothing.
func (c *Client) Promote(ctx context.Context, req PromoteRequest) (*PromoteResult, error) {
	exp, err := c.validate(&req)
	if err != nil {
		return nil, err
	}
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	src, err := s.get(req.Source)
	if err != nil {
		return nil, err
	}
	if err := checkManifest(req.Source, src); err != nil {
		return nil, err
	}
	target := req.To.Digest(req.Source.DigestStr())
	p := &promotion{
		s: s, req: req, exp: exp, src: src, target: target,
		subject: v1.Descriptor{MediaType: src.MediaType, Size: src.Size, Digest: src.Digest},
		res:     &PromoteResult{Source: req.Source.String(), Target: target.String(), DryRun: req.DryRun},
	}
	p.rec = req.Record
	p.rec.Version = RecordVersion
	p.rec.Digest, p.rec.Repository, p.rec.Source = target.DigestStr(), req.To.String(), req.Source.String()
	p.rec.Tags, p.rec.Floating = slices.Clone(req.Tags), slices.Clone(req.Floating)
	if p.rec.Baseline == "" && exp.Set && !exp.None {
		p.rec.Baseline = exp.Digest.String()
	}
	// Finding referrers and reading the source's blobs only read: they
	// overlap the plan. Nothing is written before the source is known to
	// be readable whole.
	refsPlanned := goFuture(p.planReferrers)
	srcChecked := goFuture(func() error { return s.checkSource(req.Source.Context(), src) })
	if err := p.plan(); err != nil {
		refsPlanned()
		srcChecked()
		return p.res, err
	}
	if err := srcChecked(); err != nil && !p.present {
		refsPlanned()
		return p.res, err
	}
	if req.DryRun {
		if err := refsPlanned(); err != nil {
			return p.res, err
		}
		p.mergeReferrers()
		c.log.Info("dry-run: nothing written", "target", target.String(), "actions", strings.Join(p.res.Lines(), "; "))
		return p.res, nil
	}
	// Finding referrers also overlaps the copy of the image's blobs, which
	// nothing references yet: copy waits for it before the manifest.
	p.refsPlanned = refsPlanned
	if err := p.copy(); err != nil {
		return p.res, err
	}
	if len(p.move) == 0 {
		return p.res, p.tagAndRecord()
	}
	// Floating tags move: under the process lock and the registry lease.
	unlock, err := c.locks.lock(s.ctx, req.To.String())
	if err != nil {
		return p.res, err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		var l *lease
		if c.lease.settle > 0 {
			if l, err = s.acquireLease(req.To, currentOwner(req.Record.RunID)); err != nil {
				return p.res, err
			}
		}
		err = p.underLease(l)
		if l != nil {
			l.release()
		}
		if errors.Is(err, errLeaseLost) && attempt < 3 {
			c.log.Warn("lease lost before moving floating tags; taking it again", "repository", req.To.String(), "err", err.Error())
			continue
		}
		return p.res, err
	}
}

// promotion is the state of one Promote call.
type promotion struct {
	s       *session
	req     PromoteRequest
	exp     Expectation
	src     *remote.Descriptor
	subject v1.Descriptor
	target  name.Digest
	res     *PromoteResult

	present     bool     // the manifest is already in req.To
	create      []string // immutable tags to create
	move        []string // floating tags to move
	rec         PromotionRecord
	haveRecord  bool // an identical record exists
	refs        []pendingReferrer
	sigs        []pendingSignature
	planned     time.Time // when plan looked at the tags
	tagged      string    // the immutable tag the copy was written under
	recordBlob  func() error
	recordDone  func() error  // the record's write, under way (startRecord)
	refPlans    []subjectPlan // planReferrers' findings
	refsPlanned func() error  // waits for planReferrers (copy)
}

// goFuture runs f now and returns a function that waits for its result.
func goFuture(f func() error) func() error {
	done := make(chan struct{})
	var err error
	go func() { err = f(); close(done) }()
	return func() error { <-done; return err }
}

type tagState struct {
	cur name.Digest
	ok  bool
	err error
}

// plan reads the target, the tags and the records, and refuses before
// anything is written.
func (p *promotion) plan() error {
	s, req := p.s, p.req
	// One round trip for every lookup.
	refs := []name.Reference{p.target}
	for _, t := range slices.Concat(req.Tags, req.Floating) {
		refs = append(refs, req.To.Tag(t))
	}
	st := make([]tagState, len(refs))
	g, _ := errgroup.WithContext(s.ctx)
	g.SetLimit(s.c.jobs)
	for i, r := range refs {
		g.Go(func() error {
			st[i].cur, st[i].ok, st[i].err = s.lookup(r)
			return nil
		})
	}
	g.Wait()
	for _, x := range st {
		if x.err != nil {
			return x.err
		}
	}
	p.present = st[0].ok
	p.res.Copy = pick(p.present, Unchanged, NotDone, WouldCopy, req.DryRun)
	want := p.target.DigestStr()
	for i, t := range req.Tags {
		x := st[1+i]
		switch {
		case !x.ok:
			p.create = append(p.create, t)
			p.res.Tags = append(p.res.Tags, TagResult{Tag: t, Kind: KindImmutable, Action: pick(false, Unchanged, NotDone, WouldCreate, req.DryRun), To: want})
		case x.cur.DigestStr() == want:
			p.res.Tags = append(p.res.Tags, TagResult{Tag: t, Kind: KindImmutable, Action: Unchanged, To: want})
		default:
			p.res.Tags = append(p.res.Tags, TagResult{Tag: t, Kind: KindImmutable, Action: Refused, From: x.cur.DigestStr(), To: x.cur.DigestStr()})
			return &TagExistsError{Tag: req.To.Tag(t).String(), Current: x.cur.DigestStr(), Want: want}
		}
	}
	for i, t := range req.Floating {
		x := st[1+len(req.Tags)+i]
		from := digestOrNone(x.cur, x.ok)
		switch {
		case x.ok && x.cur.DigestStr() == want:
			p.res.Tags = append(p.res.Tags, TagResult{Tag: t, Kind: KindFloating, Action: Unchanged, To: want})
		case p.exp.matches(x.cur, x.ok):
			p.move = append(p.move, t)
			p.res.Tags = append(p.res.Tags, TagResult{Tag: t, Kind: KindFloating, Action: pick(false, Unchanged, NotDone, WouldMove, req.DryRun), From: from, To: want})
		default:
			p.res.Tags = append(p.res.Tags, TagResult{Tag: t, Kind: KindFloating, Action: Refused, From: from, To: from})
			return &BaselineMovedError{Tag: req.To.Tag(t).String(), From: p.exp.String(), Current: from}
		}
	}
	if p.present {
		recs, err := s.readRecords(p.target)
		if err != nil {
			return err
		}
		p.haveRecord = slices.ContainsFunc(recs, p.rec.same)
		if len(p.create) == 0 && len(p.move) == 0 {
			// Nothing moves: a record that already says all of this
			// (another run of the same commit) is enough.
			p.haveRecord = p.haveRecord || slices.ContainsFunc(recs, p.rec.coveredBy)
		}
	}
	p.res.RecordAct = pick(p.haveRecord, Unchanged, NotDone, WouldWrite, req.DryRun)
	p.planned = time.Now()
	return nil
}

// recheckAfter is how old the plan's look at an immutable tag may be when
// the tag is written; older, it is looked at again.
const recheckAfter = time.Second

// copy copies the image, then its referrers. Uploading the record's blob
// overlaps the copy of the image's blobs. When nothing else has to come
// first (no referrer to copy, no floating tag whose baseline is re-checked
// under the lease before any tag is written), the manifest goes up under
// its first new immutable tag: the copy and that tag in one write
// (tagAndRecord then reads it back like the others).
func (p *promotion) copy() error {
	s := p.s
	g, _ := errgroup.WithContext(s.ctx)
	if !p.present {
		g.Go(func() error {
			if err := s.copyDeps(p.req.Source.Context(), p.target, p.src); err != nil {
				return fmt.Errorf("copying %s to %s: %w", p.req.Source, p.target, err)
			}
			return nil
		})
	}
	if !p.haveRecord {
		// Waited for just before the record, not here.
		p.recordBlob = goFuture(func() error { return s.uploadRecordBlobs(p.req.To) })
	}
	err := g.Wait()
	if rerr := p.refsPlanned(); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	p.mergeReferrers()
	if !p.present {
		var to name.Reference = p.target
		if len(p.refs) == 0 && len(p.sigs) == 0 && len(p.move) == 0 && len(p.create) > 0 && time.Since(p.planned) <= recheckAfter {
			to, p.tagged = p.req.To.Tag(p.create[0]), p.create[0]
		}
		if p.tagged != "" {
			// This write is the first immutable tag's: the record goes up
			// beside it (see tagAndRecord).
			p.startRecord()
		}
		if err := s.put(to, p.src); err != nil {
			p.tagged = ""
			err = fmt.Errorf("copying %s to %s: %w", p.req.Source, p.target, err)
			if rerr := p.waitRecord(); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return err
		}
		p.res.Copy = Copied
	}
	return p.applyReferrers()
}

// startRecord starts writing the record (once its blob is up), unless it
// exists or is under way.
func (p *promotion) startRecord() {
	if p.haveRecord || p.recordDone != nil {
		return
	}
	p.recordDone = goFuture(func() error {
		if p.recordBlob != nil {
			if err := p.recordBlob(); err != nil {
				return err
			}
		}
		// Where the registry has no referrers API, ggcr follows the
		// record's write with a read of the tag-schema index, then writes
		// it: that read goes out beside the record's write instead.
		if drop := p.s.readAheadFallback(p.req.To.Digest(p.subject.Digest.String())); drop != nil {
			defer drop()
		}
		d, err := p.s.putRecord(p.req.To, p.subject, p.rec)
		if err != nil {
			return err
		}
		p.res.Record, p.res.RecordAct = d.DigestStr(), Created
		return nil
	})
}

// waitRecord waits for the record's write started by startRecord, if any.
func (p *promotion) waitRecord() error {
	if p.recordDone == nil {
		return nil
	}
	err := p.recordDone()
	p.recordDone = nil
	if err == nil {
		p.haveRecord = true
	}
	return err
}

// underLease is the part of a promotion that moves floating tags, run
// holding l (nil without a lease): re-check the baseline, write the
// immutable tags and the record, check the lease is still ours, move.
func (p *promotion) underLease(l *lease) error {
	for _, t := range p.move {
		cur, ok, err := p.s.lookup(p.req.To.Tag(t))
		if err != nil {
			return err
		}
		if !p.exp.matches(cur, ok) {
			from := digestOrNone(cur, ok)
			setTag(p.res, t, KindFloating, TagResult{Tag: t, Kind: KindFloating, Action: Refused, From: from, To: from})
			return &BaselineMovedError{Tag: p.req.To.Tag(t).String(), From: p.exp.String(), Current: from}
		}
	}
	if err := p.tagAndRecord(); err != nil {
		return err
	}
	if l != nil {
		if err := l.check(); err != nil {
			return err
		}
	}
	return p.moveFloating()
}

func pick(exists bool, unchanged, done, would Action, dry bool) Action {
	switch {
	case exists:
		return unchanged
	case dry:
		return would
	}
	return done
}

func setTag(res *PromoteResult, tag, kind string, tr TagResult) {
	for i := range res.Tags {
		if res.Tags[i].Tag == tag && res.Tags[i].Kind == kind {
			res.Tags[i] = tr
			return
		}
	}
	res.Tags = append(res.Tags, tr)
}

// tagAndRecord writes the immutable tags and the record, side by side
// (the record may already be under way beside the copy's tagged write);
// both are done before it returns, so before any floating tag moves.
func (p *promotion) tagAndRecord() error {
	p.startRecord()
	err := p.tagImmutable()
	if rerr := p.waitRecord(); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// tagImmutable writes the immutable tags still to create and reads each
// back.
func (p *promotion) tagImmutable() error {
	s, want := p.s, p.target.DigestStr()
	for _, t := range p.create {
		tag := p.req.To.Tag(t)
		// Immutable means never clobber: look again just before the write
		// unless the plan's look is fresh (a long copy came between).
		cur, ok, err := name.Digest{}, false, error(nil)
		if time.Since(p.planned) > recheckAfter && t != p.tagged {
			cur, ok, err = s.lookup(tag)
		}
		if err != nil {
			return err
		}
		if ok && cur.DigestStr() != want {
			setTag(p.res, t, KindImmutable, TagResult{Tag: t, Kind: KindImmutable, Action: Refused, From: cur.DigestStr(), To: cur.DigestStr()})
			return &TagExistsError{Tag: tag.String(), Current: cur.DigestStr(), Want: want}
		}
		if !ok {
			if t != p.tagged {
				if err := s.put(tag, p.src); err != nil {
					return fmt.Errorf("tagging %s: %w", tag, err)
				}
			}
			// Read back: a concurrent writer of the same tag wins or loses
			// here, never silently.
			got, ok, err := s.lookup(tag)
			if err != nil {
				return err
			}
			if !ok || got.DigestStr() != want {
				setTag(p.res, t, KindImmutable, TagResult{Tag: t, Kind: KindImmutable, Action: Refused, From: digestOrNone(got, ok), To: digestOrNone(got, ok)})
				return &TagExistsError{Tag: tag.String(), Current: digestOrNone(got, ok), Want: want}
			}
		}
		setTag(p.res, t, KindImmutable, TagResult{Tag: t, Kind: KindImmutable, Action: Created, To: want})
	}
	p.create = nil
	return nil
}

// moveFloating writes the floating tags; if one fails, those already moved
// go back where they were.
func (p *promotion) moveFloating() error {
	s, want := p.s, p.target.DigestStr()
	var done []string
	fail := func(err error) error {
		if rerr := p.rollback(done); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	for _, t := range p.move {
		tag := p.req.To.Tag(t)
		cur, ok, err := s.lookup(tag)
		if err != nil {
			return fail(err)
		}
		if !p.exp.matches(cur, ok) {
			from := digestOrNone(cur, ok)
			setTag(p.res, t, KindFloating, TagResult{Tag: t, Kind: KindFloating, Action: Refused, From: from, To: from})
			return fail(&BaselineMovedError{Tag: tag.String(), From: p.exp.String(), Current: from})
		}
		if err := s.put(tag, p.src); err != nil {
			return fail(fmt.Errorf("moving floating tag %s: %w", tag, err))
		}
		done = append(done, t)
		setTag(p.res, t, KindFloating, TagResult{Tag: t, Kind: KindFloating, Action: Moved, From: digestOrNone(cur, ok), To: want})
	}
	// Read back: a write by something that ignores the lease is reported.
	for _, t := range p.move {
		tag := p.req.To.Tag(t)
		got, ok, err := s.lookup(tag)
		if err != nil {
			return fmt.Errorf("reading back floating tag %s: %w", tag, err)
		}
		if !ok || got.DigestStr() != want {
			setTag(p.res, t, KindFloating, TagResult{Tag: t, Kind: KindFloating, Action: NotDone, From: p.exp.String(), To: digestOrNone(got, ok)})
			return &BaselineMovedError{Tag: tag.String(), From: p.exp.String(), Current: digestOrNone(got, ok)}
		}
	}
	return nil
}

// rollback points the floating tags in done back at the baseline. It runs
// even when the context is done (bounded by its own timeout).
func (p *promotion) rollback(done []string) error {
	if len(done) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.s.ctx), time.Minute)
	defer cancel()
	rs := *p.s
	rs.ctx = ctx
	cand := p.target.DigestStr()
	var errs []error
	for _, t := range slices.Backward(done) {
		tag := p.req.To.Tag(t)
		var err error
		if p.exp.None {
			// Untagging is not in every registry (distribution 2.8 has no
			// tag DELETE); the error says so if it fails.
			err = rs.pusher.Delete(ctx, tag)
		} else {
			var base *remote.Descriptor
			if base, err = rs.get(p.req.To.Digest(p.exp.Digest.String())); err == nil {
				err = rs.put(tag, base)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("rolling back floating tag %s to %s failed, it points at %s: %w", tag, p.exp, cand, err))
			continue
		}
		setTag(p.res, t, KindFloating, TagResult{Tag: t, Kind: KindFloating, Action: RolledBack, From: cand, To: p.exp.String()})
	}
	return errors.Join(errs...)
}
