package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/gate"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// Subject is what one role tests: every image of the run, each built in
// this run (Ref "") or pinned by digest. Candidate and baseline subjects
// differ in these images only; runners and sidecars are the same.
type Subject struct {
	// Role is Candidate or Baseline.
	Role string
	// Images in the run's order; the first is the default image under
	// test. A run of one image has one Target with Image "".
	Images []Target
}

// Find returns the image of s named name; "" is the first. A subject of
// one unnamed image (a run of one) answers every name with it.
func (s Subject) Find(name string) (Target, bool) {
	if len(s.Images) == 0 {
		return Target{Role: s.Role}, false
	}
	if name == "" || (len(s.Images) == 1 && s.Images[0].Image == "") {
		return s.Images[0], true
	}
	for _, t := range s.Images {
		if t.Image == name {
			return t, true
		}
	}
	return Target{Role: s.Role}, false
}

// buildRequest is what TestSubject builds before the cells: the images of
// s built in this run, and the runner stages.
func (s Subject) buildRequest(stages []Stage) BuildRequest {
	r := BuildRequest{Stages: stages}
	for _, t := range s.Images {
		if t.Ref != "" {
			continue
		}
		r.Image = true
		if t.Image != "" {
			r.Names = append(r.Names, t.Image)
		}
	}
	return r
}

// describe names the pinned images of s for a report: the ref of a run of
// one image, NAME=REF for each of several; "" when all are built here.
func (s Subject) describe() string {
	if len(s.Images) == 1 {
		return s.Images[0].Ref
	}
	var parts []string
	for _, t := range s.Images {
		if t.Ref != "" {
			parts = append(parts, t.Image+"="+t.Ref)
		}
	}
	return strings.Join(parts, ", ")
}

// subjectOf is the subject of role for plan p: refs[i] is the ref of
// p.Images[i] ("" for the image built in this run). A run of one image
// has one unnamed Target, as it always had. In a run of several, an image
// whose ref is missing for the baseline (none yet) is left out.
func subjectOf(p *runplan.Plan, role string, refs []string) Subject {
	s := Subject{Role: role}
	if len(p.Images) == 1 {
		if role != Baseline || refs[0] != "" {
			s.Images = []Target{{Role: role, Ref: refs[0]}}
		}
		return s
	}
	for i, im := range p.Images {
		if role == Baseline && refs[i] == "" {
			continue
		}
		s.Images = append(s.Images, Target{Role: role, Ref: refs[i], Image: im.Name})
	}
	return s
}

// BaselineOf is the baseline of a run tested apart from its candidate
// (a sharded workflow's baseline jobs, `test --baseline`): refs holds each
// image's baseline ("" for an image with none yet). It returns the
// subject of the images that have one, never anything built from source,
// and the cells it can run: those whose images all have a baseline. The
// gate then judges the others on the candidate alone, as Promote does.
func BaselineOf(p *runplan.Plan, refs []string) (Subject, []matrix.Cell, error) {
	if !slices.ContainsFunc(refs, func(r string) bool { return r != "" }) {
		return Subject{}, nil, errors.New("a baseline is given by ref: --ref REPO@sha256:…, or NAME=REPO@sha256:… for each image that has one")
	}
	cells, _ := baselineCells(p, p.Cells, refs)
	return subjectOf(p, Baseline, refs), cells, nil
}

// CellImages lists the images of the run a cell runs: the one its command
// runs in (without a runner) and its services' (image: NAME). first is the
// run's first image, for a cell that names none.
func CellImages(c matrix.Cell, first string) []string {
	var out []string
	add := func(name string) {
		if name == "" {
			name = first
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if c.Runner.IsZero() {
		add(c.Image)
	}
	for _, s := range c.Services {
		if s.Image != "" {
			add(s.Image)
		}
	}
	return out
}

// baselineCells are the cells the baseline can run: those whose images
// all have a baseline. The others are judged strict on the candidate (a
// cell the baseline did not run is new to the gate); missing names, for
// each image without a baseline, the cells that were.
func baselineCells(p *runplan.Plan, cells []matrix.Cell, baselines []string) (runnable []matrix.Cell, missing map[string][]string) {
	has := map[string]bool{}
	for i, im := range p.Images {
		has[im.Name] = baselines[i] != ""
	}
	first := p.Images[0].Name
	missing = map[string][]string{}
	for _, c := range cells {
		ok := true
		for _, name := range CellImages(c, first) {
			if !has[name] {
				ok = false
				missing[name] = append(missing[name], c.ID)
			}
		}
		if ok {
			runnable = append(runnable, c)
		}
	}
	return runnable, missing
}

// noBaselineReasons say, for each image of a run of several without a
// baseline while others have one, that the cells running it were judged
// strict. They never block by themselves.
func noBaselineReasons(p *runplan.Plan, missing map[string][]string) []gate.Reason {
	var out []gate.Reason
	for _, im := range p.Images {
		cells, ok := missing[im.Name]
		if !ok {
			continue
		}
		out = append(out, gate.Reason{Kind: gate.NoBaseline, Message: fmt.Sprintf(
			"image %s has no baseline yet (%s does not exist): the cells that run it were judged strict, on the candidate alone: %s",
			im.Name, im.Baseline, strings.Join(cells, ", "))})
	}
	return out
}

// addReasons adds reasons to a decision: blocking ones first, as Decide
// orders them, and Pass again.
func addReasons(d *gate.Decision, rs ...gate.Reason) {
	d.Reasons = append(slices.Clone(d.Reasons), rs...)
	sort.SliceStable(d.Reasons, func(i, j int) bool { return d.Reasons[i].Blocking && !d.Reasons[j].Blocking })
	d.Pass = len(d.Blocking()) == 0
}

// resolveBaselines resolves each image's baseline tag once: its digest
// reference (in the plan's address space, for the engine), "" where the
// tag does not exist yet.
func resolveBaselines(ctx context.Context, o PromoteOptions) ([]string, error) {
	out := make([]string, len(o.Plan.Images))
	for i, im := range o.Plan.Images {
		b, err := resolveBaseline(ctx, o, im)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// ImagePromotion is what a promotion did with one image of a run of several.
type ImagePromotion struct {
	Name       string `json:"name"`
	Repository string `json:"repository"`
	// Baseline is the digest reference its cells were compared with; ""
	// when its repository had no baseline tag yet.
	Baseline string `json:"baseline,omitempty"`
	// Published is its digest reference, "" on a dry run or when the gate
	// blocked.
	Published string `json:"published,omitempty"`
	// Reused: a run of this revision had published and tagged it already.
	Reused bool                    `json:"reused,omitempty"`
	Result *registry.PromoteResult `json:"registry,omitempty"`
}

// ImagePublisher is an Engine that publishes each image of a run of
// several, as Publish does the image of a run of one. A run of several
// images needs it.
type ImagePublisher interface {
	// PublishImage pushes the image of the run named name to ref
	// (repo:tag) and returns the digest reference the registry stored.
	PublishImage(ctx context.Context, name, ref string) (string, error)
}

// promoteImages publishes each image of a run of several once (after the
// gate passed), then promotes them together (registry.PromoteAll): each
// image's immutable tags in its own repository, and the floating tags for
// all of them or for none, each from the baseline that was tested.
func promoteImages(ctx context.Context, o PromoteOptions, out *Promotion, baselines []string) error {
	p := o.Plan
	pub, ok := o.Engine.(ImagePublisher)
	if !ok {
		return fmt.Errorf("this engine cannot publish the %d images of the run", len(p.Images))
	}
	var floating []string
	if p.MovesFloating() {
		floating = p.Floating()
	}
	var reqs []registry.PromoteRequest
	anyReused := false
	for i, im := range p.Images {
		ref, err := p.PublishRefOf(im)
		if err != nil {
			return err
		}
		published, reused, err := publishOnce(ctx, o, im.Repository, ref, func(ctx context.Context, ref string) (string, error) {
			return pub.PublishImage(ctx, im.Name, ref)
		})
		if err != nil {
			return fmt.Errorf("image %s: %w", im.Name, err)
		}
		out.Images[i].Published, out.Images[i].Reused = published, reused
		anyReused = anyReused || reused
		src, err := o.Registry.ParseDigest(o.registryRef(published))
		if err != nil {
			return fmt.Errorf("publishing %s: the engine returned %q: %w", ref, published, err)
		}
		to, err := o.Registry.ParseRepository(o.registryRef(im.Repository))
		if err != nil {
			return err
		}
		expect := registry.ExpectNone
		if baselines[i] != "" {
			expect = digestOf(baselines[i])
		}
		reqs = append(reqs, registry.PromoteRequest{
			Source: src, To: to, Tags: p.Immutable(), Floating: floating, Expect: expect,
			Record: registry.PromotionRecord{Decision: registry.DecisionPass, Revision: p.Context.Revision, RunID: p.Context.RunID, Time: o.Now},
		})
	}
	out.Published, out.Reused = out.Images[0].Published, out.Images[0].Reused
	if anyReused {
		if err := settleReuse(ctx); err != nil {
			return err
		}
	}
	// Every image's attestations are attached before any tag moves.
	promoteAll := func() (*registry.GroupResult, error) {
		for i, r := range reqs {
			if err := o.attach(ctx, out, p.Images[i].Repository, r.Source, append(p.Immutable(), floating...)); err != nil {
				return nil, fmt.Errorf("image %s: %w", p.Images[i].Name, err)
			}
		}
		return o.Registry.PromoteAll(ctx, reqs)
	}
	res, err := promoteAll()
	if holders, ok := o.groupWinner(ctx, err); ok {
		// Another run of this revision (a re-run, or a tag push beside a
		// branch push) published and promoted the group first: promote its
		// images, as a re-run would; each tag already where it goes is left.
		for i := range reqs {
			reqs[i].Source = holders[i]
			out.Images[i].Published, out.Images[i].Reused = p.Images[i].Repository+"@"+holders[i].DigestStr(), true
		}
		out.Published, out.Reused = out.Images[0].Published, true
		if err = settleReuse(ctx); err == nil {
			res, err = promoteAll()
		}
	}
	if res != nil {
		for i, r := range res.Results {
			out.Images[i].Result = r
		}
		out.Undone = res.Undone
	}
	if err != nil {
		return fmt.Errorf("promoting the %d images: %w", len(p.Images), err)
	}
	return nil
}

// groupWinner reports, when a group's promotion was refused for a tag
// another run wrote (an immutable tag it holds, a floating tag it moved),
// the images that run promoted, one per image of the plan: each image's
// first immutable tag holds an image built from this plan's revision.
// Any image without one means the refusal stands.
func (o PromoteOptions) groupWinner(ctx context.Context, err error) ([]name.Digest, bool) {
	var te *registry.TagExistsError
	var be *registry.BaselineMovedError
	if !errors.As(err, &te) && !errors.As(err, &be) {
		return nil, false
	}
	var out []name.Digest
	for _, im := range o.Plan.Images {
		d, rerr := o.Registry.Resolve(ctx, o.registryRef(im.Repository+":"+o.Plan.Immutable()[0]))
		if rerr != nil {
			return nil, false
		}
		if _, verr := o.Registry.Verify(ctx, d.String(), registry.VerifyOptions{Revision: o.Plan.Context.Revision}); verr != nil {
			return nil, false
		}
		out = append(out, d)
	}
	return out, true
}

// imagesMarkdown is the per-image part of a promotion's summary.
func (p *Promotion) imagesMarkdown(b *strings.Builder) {
	b.WriteString("\n### Images\n\n| image | baseline | published |\n|---|---|---|\n")
	for _, im := range p.Images {
		base := "none yet: its cells judged strict"
		if im.Baseline != "" {
			base = "`" + im.Baseline + "`"
		}
		pub := "—"
		if im.Published != "" {
			pub = "`" + im.Published + "`"
			if im.Reused {
				pub += " (reused)"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", im.Name, base, pub)
	}
	for _, im := range p.Images {
		if im.Result == nil {
			continue
		}
		fmt.Fprintf(b, "\n### Registry: %s\n\n", im.Name)
		for _, l := range im.Result.Lines() {
			b.WriteString("- " + l + "\n")
		}
	}
	if len(p.Undone) > 0 {
		b.WriteString("\n### Moved back (all or nothing)\n\n")
		for _, l := range p.Undone {
			b.WriteString("- " + l + "\n")
		}
	}
}

// mergeScans adds the scans to d: the one image's as gate.MergeScans does,
// or each image's of a run of several, every reason naming its image and
// each image's comparison in the decision's Scans.
func mergeScans(p *runplan.Plan, d gate.Decision, scans []gate.Scans) gate.Decision {
	if len(scans) == 1 {
		return gate.MergeScans(d, scans[0])
	}
	for i, s := range scans {
		one := gate.MergeScans(gate.Decision{}, s)
		d.Scans = append(d.Scans, gate.ImageScan{Image: p.Images[i].Name, Scan: one.Scan})
		rs := one.Reasons
		for j := range rs {
			if rs[j].Finding != "" {
				rs[j].Finding = p.Images[i].Name + ": " + rs[j].Finding
			} else {
				rs[j].Message = p.Images[i].Name + ": " + rs[j].Message
			}
		}
		addReasons(&d, rs...)
	}
	return d
}
