package retention

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// fastPacing keeps GitHub's pacing rule in the tests at a tenth of a
// hundredth of its real interval.
var fastPacing = WithMutationInterval(5 * time.Millisecond)

// TestGHCRLastTaggedVersion: when every tag of a package expires, the plan
// keeps the newest tagged version (ghcr.io refuses to delete the last one)
// and says why; applying it succeeds, and so does every later run.
func TestGHCRLastTaggedVersion(t *testing.T) {
	t.Parallel()
	f := newFakeGHCR(t)
	now := time.Now().UTC()
	var prs []name.Digest
	for i, age := range []time.Duration{32 * day, 31 * day, 30 * day} {
		f.at(now.Add(-age))
		prs = append(prs, registrytest.PushImage(t, f.host()+"/acme/app:pr-"+string(rune('1'+i))+"-abcdef0", registrytest.ImageSpec{}))
	}
	f.at(now.Add(-30 * day))
	untagged := registrytest.PushImage(t, f.host()+"/acme/app", registrytest.ImageSpec{})
	policy := mustPolicy(t, config.Retention{
		Rules:    []config.Rule{{Name: "pull-requests", Class: "pr", OlderThan: config.Duration(day)}},
		Untagged: config.Untagged{OlderThan: config.Duration(day)},
	})
	ctx := context.Background()
	b := newGHCRBackend(t, f, fastPacing)
	for run := 1; run <= 2; run++ {
		facts, err := b.Facts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := Evaluate(now, policy, facts, Inputs{})
		if run == 1 && p.Summary.Delete != 3 {
			t.Fatalf("run 1: %d deletes, want pr-1, pr-2 and the untagged one: %+v", p.Summary.Delete, p.Items)
		}
		if run == 2 && len(p.Items) != 0 {
			t.Fatalf("run 2 plans %+v", p.Items)
		}
		why := ""
		for _, k := range p.Kept {
			if k.Tag == "pr-3-abcdef0" {
				why = k.Reason.Code + ": " + k.Reason.Text
			}
		}
		if why == "" || why[:len(KeptLastTagged)] != KeptLastTagged {
			t.Fatalf("run %d: pr-3-abcdef0 kept for %q, want %s", run, why, KeptLastTagged)
		}
		if res, err := Apply(ctx, b, p, WithFacts(facts)); err != nil {
			t.Fatalf("run %d: apply: %v\n%+v", run, err, res)
		}
	}
	for _, gone := range []name.Digest{prs[0], prs[1], untagged} {
		if f.has(gone.DigestStr()) {
			t.Errorf("%s still there", gone)
		}
	}
	if f.digestOf("pr-3-abcdef0") != prs[2].DigestStr() {
		t.Error("the newest tagged version is gone")
	}
}

// TestGHCRPacing: 200 deletes, sent at up to 4 at once by Apply, reach
// the API one at a time and paced, and meet no secondary rate limit; the
// package is listed once to plan and once to validate.
func TestGHCRPacing(t *testing.T) {
	t.Parallel()
	f := newFakeGHCR(t)
	f.minGap = 4 * time.Millisecond
	now := time.Now().UTC()
	f.at(now.Add(-30 * day))
	registrytest.PushImage(t, f.host()+"/acme/app:cache", registrytest.ImageSpec{LayerSize: 16})
	for range 200 {
		registrytest.PushImage(t, f.host()+"/acme/app", registrytest.ImageSpec{LayerSize: 16})
	}
	policy := mustPolicy(t, config.Retention{Untagged: config.Untagged{OlderThan: config.Duration(day)}})
	ctx := context.Background()
	b := newGHCRBackend(t, f, fastPacing)
	facts, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := Evaluate(now, policy, facts, Inputs{})
	if p.Summary.Delete != 200 {
		t.Fatalf("%d deletes planned, want 200", p.Summary.Delete)
	}
	f.mu.Lock()
	f.lists = 0
	f.mu.Unlock()
	res, err := Apply(ctx, b, p, WithApplyJobs(4), WithFacts(facts))
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.secondary != 0 || len(f.deletes) != 200 || res.Count(StatusDone) != 200 {
		t.Errorf("%d secondary rate limits met, %d deletes, %d done; want 0, 200, 200", f.secondary, len(f.deletes), res.Count(StatusDone))
	}
	if f.lists != 1 { // the validation pass, one page of 1 version
		t.Errorf("apply listed the package %d times, want once (to validate)", f.lists)
	}
}

// TestGHCRDefaultMutationInterval pins GitHub's guidance: a second apart.
func TestGHCRDefaultMutationInterval(t *testing.T) {
	t.Parallel()
	f := newFakeGHCR(t)
	repo, _ := name.NewRepository(f.host() + "/acme/app")
	b, err := NewGHCR(repo, f.client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.g.interval != time.Second || DefaultMutationInterval != time.Second {
		t.Fatalf("mutation interval %s, want 1s", b.g.interval)
	}
}
