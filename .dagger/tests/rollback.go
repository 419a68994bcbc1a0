package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"dagger/slipway-tests/internal/dagger"
)

// Rollback moves a floating tag back through its promotion history.
//
// It promotes three images A, B and C of the sample app to the scenario's
// floating tag, then rolls it back: one step goes to B (two steps would go
// to A), the rollback's record shows in history and satisfies verify
// --require-promotion, the same rollback run again (its run id) changes
// nothing, a second rollback goes on to A (a rollback is not a step), and
// a third has nowhere to go and fails, leaving the tag on A.
// Before the rollbacks, a prune plan keeps B and A as rollback targets.
//
// +check
// +cache="session"
func (t *SlipwayTests) Rollback(ctx context.Context) error {
	s, err := t.newScenario(ctx, "rollback")
	if err != nil {
		return err
	}
	a, err := s.promoteBaseline(ctx)
	if err != nil {
		return err
	}
	b, err := s.promoteStep(ctx, "second")
	if err != nil {
		return err
	}
	c, err := s.promoteStep(ctx, "third")
	if err != nil {
		return err
	}
	m := s.slipway("rollback", "fixed", "unit")

	// Dry runs: one step back is B, two are A; nothing moves.
	for steps, want := range map[int]string{1: b, 2: a} {
		dry := m.Rollback(dagger.SlipwayRollbackOpts{Tag: s.stable(), Steps: steps, DryRun: true})
		if err := expectRollback(ctx, dry, c, want, "would move"); err != nil {
			return fmt.Errorf("dry run, %d step(s): %w", steps, err)
		}
	}
	if err := s.expectStable(ctx, c); err != nil {
		return fmt.Errorf("after the dry runs: %w", err)
	}
	// Retention keeps both images stable can roll back to, and says why
	// (a dry run: the ephemeral registry is shared with the other checks).
	if err := s.expectRollbackKept(ctx, m, map[string]int{"second": 1, "baseline": 2}); err != nil {
		return err
	}

	// C back to B, with a record that history and verify show.
	if err := expectRollback(ctx, m.Rollback(dagger.SlipwayRollbackOpts{Tag: s.stable(), Reason: "bad release", Actor: "alice"}), c, b, "moved"); err != nil {
		return err
	}
	if err := s.expectStable(ctx, b); err != nil {
		return err
	}
	if err := s.expectHistory(ctx, m, []string{"rollback " + b + "<-" + c, "pass " + c + "<-" + b, "pass " + b + "<-" + a, "pass " + a + "<-"}); err != nil {
		return err
	}
	got, err := m.Verify(ctx, repository+":"+s.stable(), dagger.SlipwayVerifyOpts{Revision: s.revision("second"), RequirePromotion: true})
	if err != nil {
		return fmt.Errorf("verify --require-promotion after the rollback: %w", err)
	}
	if digestOf(got) != b {
		return fmt.Errorf("verify returned %q, want %s", got, b)
	}

	// The rollback's job run again (its run id, another reason: the same
	// call would be served from the session's cache, +cache="session")
	// changes nothing and says so.
	if err := expectRollback(ctx, m.Rollback(dagger.SlipwayRollbackOpts{Tag: s.stable(), Reason: "bad release, re-run"}), b, b, "unchanged"); err != nil {
		return fmt.Errorf("re-run of the rollback: %w", err)
	}
	if err := s.expectStable(ctx, b); err != nil {
		return fmt.Errorf("after the re-run: %w", err)
	}

	// A rollback after a rollback (another run) goes one promotion further back.
	if err := expectRollback(ctx, s.slipway("rollback-2", "fixed", "unit").Rollback(dagger.SlipwayRollbackOpts{Tag: s.stable()}), b, a, "moved"); err != nil {
		return fmt.Errorf("second rollback: %w", err)
	}
	// A was the first promotion: nowhere left to go.
	_, err = s.slipway("rollback-3", "fixed", "unit").Rollback(dagger.SlipwayRollbackOpts{Tag: s.stable()}).To(ctx)
	if err == nil || !strings.Contains(err.Error(), "no rollback target") {
		return fmt.Errorf("rollback past the first promotion: err = %v, want no rollback target", err)
	}
	return s.expectStable(ctx, a)
}

// promoteStep promotes the fixed variant as the scenario's step over what
// its floating tag points at, and returns the new digest.
func (s scenario) promoteStep(ctx context.Context, step string) (string, error) {
	p, err := readPromotion(ctx, s.slipway(step, "fixed", "unit", "e2e").Promote())
	if err != nil {
		return "", fmt.Errorf("promoting %s: %w", step, err)
	}
	if !p.Decision.Pass {
		return "", fmt.Errorf("%s: the gate blocked", step)
	}
	digest, err := p.expectPublished(s, step)
	if err != nil {
		return "", fmt.Errorf("%s: %w", step, err)
	}
	if err := p.expectTag(s.stable(), "floating", digest); err != nil {
		return "", fmt.Errorf("%s: %w", step, err)
	}
	return digest, nil
}

// expectRollback checks a rollback's result: from, to and the tag's action.
func expectRollback(ctx context.Context, r *dagger.SlipwayRollbackResult, from, to, action string) error {
	text, err := r.JSON(ctx)
	if err != nil {
		return err
	}
	var got struct {
		From   string `json:"from"`
		To     string `json:"to"`
		Action string `json:"action"`
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		return fmt.Errorf("rollback JSON: %w", err)
	}
	if got.From != from || got.To != to || got.Action != action {
		return fmt.Errorf("rollback %s from %s to %s, want %s from %s to %s", got.Action, got.From, got.To, action, from, to)
	}
	return nil
}

// expectHistory checks the floating tag's history, newest first, as
// "decision digest<-replaced" lines; the newest is the rollback of
// expectRollback's caller, by alice for a bad release.
func (s scenario) expectHistory(ctx context.Context, m *dagger.Slipway, want []string) error {
	entries, err := m.History(dagger.SlipwayHistoryOpts{Tag: s.stable()}).Entries(ctx)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	var got []string
	for i, e := range entries {
		decision, err := e.Decision(ctx)
		if err != nil {
			return err
		}
		digest, err := e.Digest(ctx)
		if err != nil {
			return err
		}
		replaced, err := e.Replaced(ctx)
		if err != nil {
			return err
		}
		got = append(got, decision+" "+digest+"<-"+replaced)
		if i == 0 {
			reason, err := e.Reason(ctx)
			if err != nil {
				return err
			}
			actor, err := e.Actor(ctx)
			if err != nil {
				return err
			}
			if reason != "bad release" || actor != "alice" {
				return fmt.Errorf("history: the rollback's reason %q and actor %q, want bad release and alice", reason, actor)
			}
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		return errors.New("history:\n" + strings.Join(got, "\n") + "\nwant:\n" + strings.Join(want, "\n"))
	}
	return nil
}

// expectRollbackKept plans retention (a dry run) and checks that the
// immutable tag of each step's image is kept as a rollback target of the
// scenario's floating tag, that many promotions back.
func (s scenario) expectRollbackKept(ctx context.Context, m *dagger.Slipway, steps map[string]int) error {
	text, err := m.Prune().JSON(ctx)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	var plan struct {
		Kept []struct {
			Tag    string `json:"tag"`
			Reason struct {
				Code string `json:"code"`
				Text string `json:"text"`
			} `json:"reason"`
		} `json:"kept"`
	}
	if err := json.Unmarshal([]byte(text), &plan); err != nil {
		return fmt.Errorf("prune JSON: %w", err)
	}
	for step, back := range steps {
		tag := "sha-" + s.revision(step)[:7]
		want := fmt.Sprintf("rollback target of %s (%d promotion(s) back)", s.stable(), back)
		found := false
		for _, k := range plan.Kept {
			if k.Tag == tag {
				found = true
				if k.Reason.Code != "rollback" || !strings.Contains(k.Reason.Text, want) {
					return fmt.Errorf("prune keeps %s for %s %q, want rollback %q", tag, k.Reason.Code, k.Reason.Text, want)
				}
			}
		}
		if !found {
			return fmt.Errorf("the prune plan does not keep %s", tag)
		}
	}
	return nil
}
