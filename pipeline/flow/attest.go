package flow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/attest"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// sign makes the signed attestations of a promotion that passed the gate,
// for the image src of repo (as users name it) that tags will move to: the
// in-toto test-result of the candidate's run, and Slipway's promotion
// decision. Nil with no Signer.
func (o PromoteOptions) sign(ctx context.Context, out *Promotion, repo string, src name.Digest, tags []string) ([]registry.Attestation, error) {
	if o.Signer == nil {
		return nil, nil
	}
	subject := attest.Subject{Name: repo, Digest: src.DigestStr()}
	trs, err := attest.TestResultStatement(subject, o.testResult(out))
	if err != nil {
		return nil, fmt.Errorf("the test-result attestation: %w", err)
	}
	p := attest.Promotion{
		Decision: attest.DecisionPass, Mode: out.Decision.Mode, Baseline: digestOf(out.BaselineDigest),
		RunID: o.Plan.Context.RunID, Revision: o.Plan.Context.Revision, Tags: tags, Time: o.Now,
		Reasons: []string{},
	}
	for _, r := range out.Decision.Reasons {
		p.Reasons = append(p.Reasons, r.String())
	}
	ps, err := attest.PromotionStatement(subject, p)
	if err != nil {
		return nil, fmt.Errorf("the promotion attestation: %w", err)
	}
	var atts []registry.Attestation
	for _, st := range []struct {
		typ  string
		body []byte
	}{{attest.TestResultType, trs}, {attest.PromotionType, ps}} {
		env, err := o.Signer.Sign(ctx, st.body)
		if err != nil {
			return nil, fmt.Errorf("signing the %s attestation: %w", st.typ, err)
		}
		atts = append(atts, registry.Attestation{PredicateType: st.typ, Envelope: env})
	}
	return atts, nil
}

// attach signs the promotion of src and attaches the attestations to it,
// before any tag moves: an image a tag points at is then never without
// them, and a promotion that cannot attach them moves nothing.
func (o PromoteOptions) attach(ctx context.Context, out *Promotion, repo string, src name.Digest, tags []string) error {
	atts, err := o.sign(ctx, out, repo, src, tags)
	if err != nil || atts == nil {
		return err
	}
	if err := o.Registry.AttachAttestations(ctx, src, atts); err != nil {
		return fmt.Errorf("attaching the signed attestations to %s: %w", src, err)
	}
	out.Attested = nil
	for _, a := range atts {
		out.Attested = append(out.Attested, a.PredicateType)
	}
	return nil
}

// testResult is the in-toto test result of the candidate's run: its cases
// (testResultOf), configured by the config file, the revision and the run.
func (o PromoteOptions) testResult(out *Promotion) attest.TestResult {
	tr := testResultOf(out.Candidate)
	if o.Config != nil {
		tr.Configuration = append(tr.Configuration, *o.Config)
	}
	if rev := o.Plan.Context.Revision; rev != "" {
		tr.Configuration = append(tr.Configuration, attest.Resource{Name: "revision", Digest: map[string]string{"gitCommit": rev}})
	}
	if run := o.Plan.Context.RunID; run != "" || len(tr.Configuration) == 0 {
		tr.Configuration = append(tr.Configuration, attest.Resource{Name: "run " + run})
	}
	return tr
}

// testResultPredicate is the test-result predicate of the candidate's run
// as JSON, for the promotion's output (cosign attest --predicate), nil
// when it cannot be made.
func (o PromoteOptions) testResultPredicate(out *Promotion) json.RawMessage {
	b, err := attest.TestResultPredicate(o.testResult(out))
	if err != nil {
		return nil
	}
	return b
}

// testResultOf is the in-toto test result of a report: each case by its
// cell and id ("e2e-1 › pkg › TestLogin"), a cell without cases by its id.
// Failed and errored cases fail, flaky ones warn, skipped ones are left
// out; any failure makes the result FAILED, else any warning WARNED.
func testResultOf(r *report.Report) attest.TestResult {
	var tr attest.TestResult
	if r != nil {
		for _, c := range r.Cells {
			if len(c.Cases) == 0 {
				switch {
				case c.Status == report.Flaky:
					tr.Warned = append(tr.Warned, c.ID)
				case c.Status.Passed():
					tr.Passed = append(tr.Passed, c.ID)
				default:
					tr.Failed = append(tr.Failed, c.ID)
				}
				continue
			}
			for _, k := range c.Cases {
				id := c.ID + " › " + k.ID()
				switch {
				case k.Status.Failed():
					tr.Failed = append(tr.Failed, id)
				case k.Status == report.CaseSkip:
				case k.Flaky || c.Status == report.Flaky:
					tr.Warned = append(tr.Warned, id)
				default:
					tr.Passed = append(tr.Passed, id)
				}
			}
		}
	}
	switch {
	case len(tr.Failed) > 0:
		tr.Result = attest.ResultFailed
	case len(tr.Warned) > 0:
		tr.Result = attest.ResultWarned
	default:
		tr.Result = attest.ResultPassed
	}
	return tr
}

// VerifySigned checks the signed attestations of the image d with the
// public key pubPEM (cosign.pub): a test-result and a promotion
// attestation, each signed by the key, about d, the promotion's decision
// pass and, when revision is set, its revision that commit. A refusal
// matches attest.ErrNotVerified and says why in one line; an image with
// only an unsigned promotion record is refused as having no attestation
// signed by the key. A key that does not parse matches attest.ErrKey.
func VerifySigned(ctx context.Context, c *registry.Client, d name.Digest, pubPEM []byte, revision string) (*attest.Verified, error) {
	v, err := attest.ParsePublicKey(pubPEM)
	if err != nil {
		return nil, err
	}
	atts, err := c.Attestations(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("reading the attestations of %s: %w", d, err)
	}
	envs := make([][]byte, len(atts))
	for i, a := range atts {
		envs[i] = a.Envelope
	}
	return attest.VerifyPromotion(v, envs, d.DigestStr(), revision)
}
