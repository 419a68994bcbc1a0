// Package flow is the order of a Slipway run: test a target's cells (and
// scan the target) through an Engine, gate the candidate against the
// baseline, publish once, promote by digest. The Dagger module implements Engine with container execs; the
// decisions stay here, where go test reaches them.
package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-ci/slipway/pipeline/attest"
	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gate"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

// Roles of a Target.
const (
	Candidate = "candidate"
	Baseline  = "baseline"
)

// Target is an image under test.
type Target struct {
	// Role is Candidate or Baseline.
	Role string
	// Ref is the image pinned by digest (repo@sha256:…), or "" for the
	// image built in this run.
	Ref string
	// Platform is the platform of the image to run, "" for the first of
	// build.platforms (a cell's Platform).
	Platform string
	// Image names the image of the run (runplan.Image.Name) in a run of
	// several; "" is the run's one (or first) image.
	Image string
}

// Engine runs execs on images and publishes the candidate.
type Engine interface {
	// Exec runs x on the target image, or in x.Runner when it has one,
	// with x.Services started, bound by name and healthy first (see
	// WaitHealthy; one that is not is an *UnhealthyError). An error means
	// it could not run (engine, registry, a service); a failing command is
	// an ExecResult.
	Exec(ctx context.Context, t Target, x Exec) (ExecResult, error)
	// Publish pushes the candidate to ref (repo:tag) and returns the
	// digest reference the registry stored.
	Publish(ctx context.Context, ref string) (string, error)
	// Scan runs Trivy on the target image and returns its JSON report
	// (schema version 2, every severity, nothing ignored: the judging is
	// pipeline/scan's). An error means there is no report.
	Scan(ctx context.Context, t Target) ([]byte, error)
	// Inspect reads the target image's config for the smoke check: its
	// entrypoint, command and HEALTHCHECK, and whether it has /bin/sh.
	Inspect(ctx context.Context, t Target) (ImageConfig, error)
}

// ErrGateBlocked is returned by Promote when the gate does not pass.
var ErrGateBlocked = errors.New("the gate blocked the promotion")

// PromoteOptions are the inputs of Promote.
type PromoteOptions struct {
	Plan     *runplan.Plan
	Test     config.Test
	Registry *registry.Client
	Engine   Engine
	// DryRun tests and gates, then stops before publishing anything.
	DryRun bool
	// Now stamps the promotion record.
	Now time.Time
	// RegistryHost, when set, is the address the registry client uses for
	// the plan's ephemeral repository (the registry service's endpoint in
	// the engine); the engine keeps using the plan's localhost:5000.
	RegistryHost string
	// Redact is applied to log tails kept in reports (secrets).
	Redact func(string) string
	// Scan is the config's scan section. Its mode off, or "" (the zero
	// value), scans nothing.
	Scan config.Scan
	// ScanIgnore is the parsed ignore file; nil for none.
	ScanIgnore *scan.IgnoreList
	// Signer, when set, signs the promotion: an in-toto test-result and
	// Slipway's promotion decision, as DSSE envelopes attached to the image
	// before any tag moves (see attach). Nil: the promotion record only.
	Signer *attest.Signer
	// Config is the config file the run read (name and sha256 digest), for
	// the test-result attestation's configuration; nil for the defaults.
	Config *attest.Resource
}

// scanning reports whether o asks for the images to be scanned.
func (o PromoteOptions) scanning() bool { return o.Scan.Mode != "" && o.Scan.Mode != config.ScanOff }

// Promotion is the outcome of Promote.
type Promotion struct {
	Decision  gate.Decision  `json:"decision"`
	Candidate *report.Report `json:"candidate"`
	// Baseline is nil when there was no baseline image yet.
	Baseline       *report.Report `json:"baseline,omitempty"`
	BaselineDigest string         `json:"baselineDigest,omitempty"`
	// Published is the candidate's digest reference, "" on a dry run or
	// when the gate blocked.
	Published string `json:"published,omitempty"`
	// Reused is true when the immutable tag already held this revision's
	// image (a re-run): that image was promoted and nothing was published.
	Reused bool                    `json:"reused,omitempty"`
	Result *registry.PromoteResult `json:"registry,omitempty"`
	DryRun bool                    `json:"dryRun"`
	// Images has an entry per image of a run of several, in order (the
	// fields above are then the first image's, and Result is nil).
	Images []ImagePromotion `json:"images,omitempty"`
	// Undone are the floating tags moved back because a later image of
	// the run could not be promoted (all or nothing).
	Undone []string `json:"undone,omitempty"`
	// Attested are the predicate types of the signed attestations attached
	// to the published image (PromoteOptions.Signer); none unsigned.
	Attested []string `json:"attested,omitempty"`
	// TestResult is the in-toto test-result predicate of the candidate's
	// run (https://in-toto.io/attestation/test-result/v0.1), as signed
	// with a Signer: for `cosign attest --predicate` where the promotion is
	// signed another way (keyless, in the CI job).
	TestResult json.RawMessage `json:"testResult,omitempty"`
}

// Markdown renders the decision and the candidate's report.
func (p *Promotion) Markdown() string {
	var b strings.Builder
	_ = p.Decision.WriteMarkdown(&b, p.Candidate)
	if len(p.Images) > 0 {
		p.imagesMarkdown(&b)
	}
	if p.Result != nil {
		b.WriteString("\n### Registry\n\n")
		for _, l := range p.Result.Lines() {
			b.WriteString("- " + l + "\n")
		}
	}
	if len(p.Attested) > 0 {
		fmt.Fprintf(&b, "\nSigned: %s attached to the image (verify with `slipway verify --key cosign.pub` or `cosign verify-attestation`).\n", strings.Join(p.Attested, " and "))
	}
	return b.String()
}

// briefReasons bounds the reasons Brief lists.
const briefReasons = 10

// Brief is a blocked promotion in a few lines, for the error a failed call
// prints (on stderr, where the Dagger CLI prints it twice): the blocking
// reasons, one a line, and how to get the whole report on stdout.
func (p *Promotion) Brief() string {
	var b strings.Builder
	blocking := p.Decision.Blocking()
	for i, r := range blocking {
		if i == briefReasons {
			fmt.Fprintf(&b, "- … and %d more\n", len(blocking)-i)
			break
		}
		b.WriteString("- " + r.String() + "\n")
	}
	b.WriteString("The whole report on stdout, and a red job all the same: promote --no-fail markdown, or files export (README: A blocked gate in CI).")
	return b.String()
}

// Promote runs the whole promotion: resolve the baseline once, test (and
// scan, unless the scan mode is off) the candidate and the baseline, all in
// parallel, gate, publish the candidate once (under the staging tag, see
// runplan.PublishRef), then promote it by digest with its immutable tags,
// moving floating tags only from the baseline digest that was tested.
func Promote(ctx context.Context, o PromoteOptions) (*Promotion, error) {
	p := o.Plan
	if !o.DryRun {
		if _, err := p.PublishRef(); err != nil {
			return nil, err // before testing: nothing could be published
		}
	}
	var policy scan.Policy
	if o.scanning() {
		var err error
		if policy, err = scan.PolicyFrom(o.Scan, o.ScanIgnore, o.Now); err != nil {
			return nil, err
		}
	}
	baselines, err := resolveBaselines(ctx, o)
	if err != nil {
		return nil, err
	}
	baseline := baselines[0]
	out := &Promotion{BaselineDigest: baseline, DryRun: o.DryRun}
	several := len(p.Images) > 1
	if several {
		for i, im := range p.Images {
			out.Images = append(out.Images, ImagePromotion{Name: im.Name, Repository: im.Repository, Baseline: baselines[i]})
		}
	}
	opts := matrix.OptionsFrom(o.Test)
	opts.Redact = o.Redact
	meta := report.Report{Revision: p.Context.Revision, RunID: p.Context.RunID}
	cand := subjectOf(p, Candidate, make([]string, len(p.Images)))
	base := subjectOf(p, Baseline, baselines)
	baseCells, missing := baselineCells(p, p.Cells, baselines)
	if len(base.Images) == 0 {
		missing = nil // no image has a baseline: the gate runs strict
	}
	if len(baseCells) == 0 {
		base.Images = nil // no cell the baseline can run: strict, and missing says why
	}

	var g errgroup.Group
	g.Go(func() error {
		m := meta
		m.Image = "candidate built from " + shortRev(p.Context.Revision)
		out.Candidate = TestSubject(ctx, o.Engine, cand, p.Cells, opts, m)
		return nil
	})
	if len(base.Images) > 0 {
		g.Go(func() error {
			m := meta
			m.Revision = ""
			if !several {
				m.Digest = digestOf(baseline)
			}
			out.Baseline = TestSubject(ctx, o.Engine, base, baseCells, opts, m)
			return nil
		})
	}
	scans := make([]gate.Scans, len(p.Images))
	if o.scanning() {
		for i := range p.Images {
			scans[i].Policy = policy
			g.Go(func() error {
				scans[i].Candidate, scans[i].CandidateErr = o.scanImage(ctx, cand.Images[i])
				return nil
			})
			if bt, ok := base.Find(cand.Images[i].Image); ok && len(base.Images) > 0 && baselines[i] != "" {
				g.Go(func() error {
					scans[i].Baseline, scans[i].BaselineErr = o.scanImage(ctx, bt)
					return nil
				})
			}
		}
	}
	_ = g.Wait() // the test and scan functions report, they do not fail
	report.AlignNotRun(out.Candidate, out.Baseline)

	out.Decision = gate.Decide(p.Gate, out.Candidate, out.Baseline)
	out.TestResult = o.testResultPredicate(out)
	if len(missing) > 0 {
		addReasons(&out.Decision, noBaselineReasons(p, missing)...)
	}
	if o.scanning() {
		out.Decision = mergeScans(p, out.Decision, scans)
	}
	if !out.Decision.Pass {
		return out, fmt.Errorf("%w: %s", ErrGateBlocked, out.Decision.Headline())
	}
	if o.DryRun {
		return out, nil
	}
	if several {
		return out, promoteImages(ctx, o, out, baselines)
	}
	ref, err := p.PublishRef()
	if err != nil {
		return out, err
	}
	published, reused, err := publishOnce(ctx, o, p.Repository, ref, o.Engine.Publish)
	if err != nil {
		return out, err
	}
	src, err := o.Registry.ParseDigest(o.registryRef(published))
	if err != nil {
		return out, fmt.Errorf("publishing %s: the engine returned %q: %w", ref, published, err)
	}
	to, err := o.Registry.ParseRepository(o.registryRef(p.Repository))
	if err != nil {
		return out, err
	}
	expect := registry.ExpectNone
	if baseline != "" {
		expect = digestOf(baseline)
	}
	var floating []string
	if p.MovesFloating() {
		floating = p.Floating()
	}
	promote := func(src name.Digest) (*registry.PromoteResult, error) {
		if err := o.attach(ctx, out, p.Repository, src, append(p.Immutable(), floating...)); err != nil {
			return nil, err
		}
		return o.Registry.Promote(ctx, registry.PromoteRequest{
			Source:   src,
			To:       to,
			Tags:     p.Immutable(),
			Floating: floating,
			Expect:   expect,
			Record: registry.PromotionRecord{
				Decision: registry.DecisionPass,
				Revision: p.Context.Revision,
				RunID:    p.Context.RunID,
				Time:     o.Now,
			},
		})
	}
	if reused {
		err = settleReuse(ctx)
	}
	if err == nil {
		out.Result, err = promote(src)
	}
	if holder, ok := o.sameRevision(ctx, err); ok {
		// Another run of this revision (a re-run, or a tag push beside a
		// branch push) published and tagged or moved stable first: promote
		// its image, as a re-run would.
		published, reused, src = p.Repository+"@"+holder.DigestStr(), true, holder
		if err = settleReuse(ctx); err == nil {
			out.Result, err = promote(src)
		}
	}
	out.Published, out.Reused = published, reused
	if err != nil {
		return out, fmt.Errorf("promoting %s: %w", published, err)
	}
	return out, nil
}

// reuseSettle is how long a run waits before promoting an image another
// run of its revision published and tagged: that run may still be writing
// its promotion record, and where the registry has no referrers API a
// digest's records share one fallback index, which each writer reads,
// changes and writes back; two writers at once would lose one record.
var reuseSettle = 2 * time.Second

func settleReuse(ctx context.Context) error {
	wait, cancel := context.WithTimeout(ctx, reuseSettle)
	defer cancel()
	<-wait.Done()
	return ctx.Err()
}

// sameRevision reports the image a promotion was refused for, when it was
// built from this plan's revision: the image an immutable tag holds, or a
// floating tag moved to since the baseline was tested.
func (o PromoteOptions) sameRevision(ctx context.Context, err error) (name.Digest, bool) {
	var current string
	var te *registry.TagExistsError
	var be *registry.BaselineMovedError
	switch {
	case errors.As(err, &te):
		current = te.Current
	case errors.As(err, &be):
		current = be.Current
	default:
		return name.Digest{}, false
	}
	holder, perr := o.Registry.ParseDigest(o.registryRef(o.Plan.Repository) + "@" + current)
	if perr != nil {
		return name.Digest{}, false
	}
	if _, verr := o.Registry.Verify(ctx, holder.String(), registry.VerifyOptions{Revision: o.Plan.Context.Revision}); verr != nil {
		return name.Digest{}, false
	}
	return holder, true
}

// scanImage scans a target through the engine and reads Trivy's report.
func (o PromoteOptions) scanImage(ctx context.Context, t Target) (*scan.Report, error) {
	data, err := o.Engine.Scan(ctx, t)
	if err == nil {
		var r *scan.Report
		if r, err = scan.Parse(bytes.NewReader(data)); err == nil {
			return r, nil
		}
	}
	msg := err.Error()
	if o.Redact != nil {
		msg = o.Redact(msg)
	}
	return nil, fmt.Errorf("scanning the %s: %s", t.Role, msg)
}

// publishOnce publishes the candidate under ref (the staging tag, see
// runplan.PublishRef) unless a run of this revision did already: the
// created and run-id labels make each run's digest new, so when the first
// immutable tag exists, an image built from the same revision there (a
// re-run) is promoted as it is, and one from another revision is refused.
func publishOnce(ctx context.Context, o PromoteOptions, repo, ref string, publish func(context.Context, string) (string, error)) (published string, reused bool, err error) {
	first := repo + ":" + o.Plan.Immutable()[0]
	d, err := o.Registry.Resolve(ctx, o.registryRef(first))
	switch {
	case errors.Is(err, registry.ErrNotFound):
		published, err := publish(ctx, ref)
		if err != nil {
			return "", false, fmt.Errorf("publishing %s: %w", ref, err)
		}
		if err := o.checkPublished(ctx, repo, published); err != nil {
			return "", false, fmt.Errorf("publishing %s: %w", ref, err)
		}
		return published, false, nil
	case err != nil:
		return "", false, fmt.Errorf("publishing %s: %w", first, err)
	}
	existing := first + "@" + d.DigestStr()
	_, err = o.Registry.Verify(ctx, o.registryRef(existing), registry.VerifyOptions{Revision: o.Plan.Context.Revision})
	switch {
	case err == nil:
		return existing, true, nil
	case errors.Is(err, registry.ErrVerifyMismatch):
		return "", false, fmt.Errorf("publishing %s: %w: it holds %s, which is not this revision's image (%v)", first, registry.ErrTagExists, d.DigestStr(), err)
	default:
		return "", false, fmt.Errorf("publishing %s: checking the image already there: %w", first, err)
	}
}

// ErrPublishedElsewhere is a push the engine reported done whose digest
// the registry does not hold: the engine sent it to another registry.
var ErrPublishedElsewhere = errors.New("the engine's push is not in the registry")

// checkPublished checks, before anything is tagged, that the registry
// (as the registry client reaches it) holds the digest the engine says it
// pushed into repo. An engine setting for the registry's address (a
// plain-HTTP or mirror entry in its engine.json) can send the push to
// another registry of that name: for the ephemeral registry, a registry of
// the engine's host instead of the service.
func (o PromoteOptions) checkPublished(ctx context.Context, repo, published string) error {
	d := digestOf(published)
	if !strings.HasPrefix(d, "sha256:") {
		return fmt.Errorf("the engine returned %q, not a digest reference", published)
	}
	_, err := o.Registry.Resolve(ctx, o.registryRef(repo+"@"+d))
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return fmt.Errorf("%w: the engine pushed %s, which %s does not hold: an engine setting for that address "+
			"(a plain-HTTP or mirror entry in engine.json) sent it to another registry; nothing was tagged", ErrPublishedElsewhere, d, repo)
	case err != nil:
		return fmt.Errorf("checking %s after the push: %w", repo+"@"+d, err)
	}
	return nil
}

// resolveBaseline returns the baseline's digest reference of an image (in
// the plan's address space, for the engine), or "" when its baseline tag
// does not exist yet (the gate then runs strict for it).
func resolveBaseline(ctx context.Context, o PromoteOptions, im runplan.Image) (string, error) {
	d, err := o.Registry.Resolve(ctx, o.registryRef(im.Baseline))
	if errors.Is(err, registry.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("resolving the baseline %s: %w", im.Baseline, err)
	}
	return im.Repository + "@" + d.DigestStr(), nil
}

// registryRef rewrites a ref of the plan's ephemeral repository to the
// address the registry client reaches it at.
func (o PromoteOptions) registryRef(ref string) string {
	if !o.Plan.Ephemeral {
		return ref
	}
	return runplan.EphemeralRef(ref, o.RegistryHost)
}

func digestOf(ref string) string {
	if _, d, ok := strings.Cut(ref, "@"); ok {
		return d
	}
	return ref
}

func shortRev(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	if rev == "" {
		return "an unknown revision"
	}
	return rev
}

// Rendered is a report in the three forms users read: JSON (the input of
// `slipway gate`), Markdown ($GITHUB_STEP_SUMMARY) and JUnit (CI test tabs).
type Rendered struct {
	JSON, Markdown, JUnit string
}

// RenderReport renders a test report; the Markdown leads with its headline.
func RenderReport(r *report.Report) (Rendered, error) {
	var j, m, x bytes.Buffer
	if err := r.WriteJSON(&j); err != nil {
		return Rendered{}, err
	}
	if err := r.WriteMarkdown(&m, ""); err != nil {
		return Rendered{}, err
	}
	if err := r.WriteJUnit(&x); err != nil {
		return Rendered{}, err
	}
	return Rendered{JSON: j.String(), Markdown: m.String(), JUnit: x.String()}, nil
}

// Render renders a promotion: the JSON holds the decision, the registry
// result and both reports; the JUnit is the decision merged with the
// candidate's cases.
func (p *Promotion) Render() (Rendered, error) {
	j, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return Rendered{}, fmt.Errorf("writing promotion JSON: %w", err)
	}
	var x bytes.Buffer
	if err := p.Decision.WriteJUnit(&x, p.Candidate); err != nil {
		return Rendered{}, err
	}
	return Rendered{JSON: string(j), Markdown: p.Markdown(), JUnit: x.String()}, nil
}
