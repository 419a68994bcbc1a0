package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/config"
)

// ErrBadInput marks a Run error caused by its inputs (repository, policy,
// in-use list, reviewed plan), not by the registry.
var ErrBadInput = errors.New("bad input")

// RunOptions are the inputs of one prune.
type RunOptions struct {
	// Repo is the repository to prune.
	Repo string
	// Config holds the retention policy and the floating tags.
	Config *config.Config
	// InUse, when set, is an in-use list (see ParseInUse).
	InUse io.Reader
	// Reviewed, when set, is the plan to apply exactly (--apply).
	Reviewed *Plan
	// Apply applies the plan; otherwise Run only plans (a dry run).
	Apply bool
	// Access opens the backend.
	Access Access
	// Now is the time ages are measured at.
	Now time.Time
	// Warn receives notes for the user (e.g. ghcr.io without a token).
	Warn func(string)
}

// Run plans retention for a repository and, with Apply or a reviewed plan,
// applies it. It returns the plan even when applying fails, with the result
// as far as it got. Errors wrap ErrBadInput for bad inputs.
func Run(ctx context.Context, o RunOptions) (*Plan, *Result, error) {
	bad := func(err error) error { return fmt.Errorf("%w: %w", ErrBadInput, err) }
	var nameOpts []name.Option
	if o.Access.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	repo, err := name.NewRepository(o.Repo, nameOpts...)
	if err != nil {
		return nil, nil, bad(fmt.Errorf("repository %q: %w", o.Repo, err))
	}
	policy, err := NewPolicy(o.Config.Retention, o.Config.Tags.Floating)
	if err != nil {
		return nil, nil, bad(err)
	}
	var in Inputs
	if o.InUse != nil {
		if in.InUse, err = ParseInUse(o.InUse, repo); err != nil {
			return nil, nil, bad(err)
		}
	}
	if o.Reviewed != nil && o.Reviewed.Repo != repo.String() {
		return nil, nil, bad(fmt.Errorf("plan is for %s, not %s", o.Reviewed.Repo, repo))
	}
	b, warning, err := Open(repo, o.Access)
	if err != nil {
		return nil, nil, bad(err)
	}
	if warning != "" && o.Warn != nil {
		o.Warn(warning)
	}
	p := o.Reviewed
	var applyOpts []ApplyOption
	if p == nil {
		facts, err := b.Facts(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", repo, err)
		}
		if in.Rollback, err = findRollbackTargets(ctx, o, repo, policy, facts); err != nil {
			return nil, nil, fmt.Errorf("reading the rollback targets of %s: %w", repo, err)
		}
		p = Evaluate(o.Now, policy, facts, in)
		// Applied at once: checked against what was just read.
		applyOpts = append(applyOpts, WithFacts(facts))
	}
	if !o.Apply && o.Reviewed == nil {
		return p, nil, nil
	}
	jobs := o.Access.Jobs
	if jobs == 0 || jobs > 4 {
		jobs = 4
	}
	res, err := Apply(ctx, b, p, append(applyOpts, WithApplyJobs(jobs))...)
	return p, res, err
}

// Rendered is a plan (and a result) as people and tools read them.
type Rendered struct {
	// JSON is the plan, or {plan, result} after an apply.
	JSON string
	// Table is WriteTable's text.
	Table string
}

// Render renders a plan and, after an apply, its result.
func Render(p *Plan, res *Result) (Rendered, error) {
	var j, t strings.Builder
	if err := WriteTable(&t, p, res); err != nil {
		return Rendered{}, err
	}
	if res == nil {
		if err := WritePlan(&j, p); err != nil {
			return Rendered{}, err
		}
		return Rendered{JSON: j.String(), Table: t.String()}, nil
	}
	enc := json.NewEncoder(&j)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Plan   *Plan   `json:"plan"`
		Result *Result `json:"result"`
	}{p, res}); err != nil {
		return Rendered{}, err
	}
	return Rendered{JSON: j.String(), Table: t.String()}, nil
}
