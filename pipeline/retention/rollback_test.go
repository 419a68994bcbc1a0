package retention

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// TestPruneKeepsRollbackTargets promotes A → B → C (tags sha-aaaaaaa,
// sha-bbbbbbb, sha-ccccccc; stable on C) and prunes with a rule that expires every sha- tag:
// retention keeps the images stable can roll back to, as many promotions
// back as retention.rollbackTargets says, says so in the plan, and the
// rollback still works after the prune; what it does not keep goes.
func TestPruneKeepsRollbackTargets(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	base := time.Date(2026, 2, 4, 10, 0, 0, 0, time.UTC)
	for i, tt := range []struct {
		name       string
		depth      int
		rollbackTo string   // roll stable back to this image first ("": no rollback)
		kept       []string // images still there after the prune
		gone       []string
		// reasons are the kept reasons of tags, "TAG: text".
		reasons  []string
		rollback string // where a rollback after the prune goes ("": refused)
	}{
		{"default depth keeps both", config.DefaultRollbackTargets, "", []string{"A", "B", "C"}, nil,
			[]string{"sha-bbbbbbb: sha-bbbbbbb is on a rollback target of stable (1 promotion(s) back)", "sha-aaaaaaa: sha-aaaaaaa is on a rollback target of stable (2 promotion(s) back)"}, "B"},
		{"depth 1 keeps B, not A", 1, "", []string{"B", "C"}, []string{"A"},
			[]string{"sha-bbbbbbb: sha-bbbbbbb is on a rollback target of stable (1 promotion(s) back)"}, "B"},
		{"depth 0 keeps none", 0, "", []string{"C"}, []string{"A", "B"}, nil, ""},
		{"after a rollback to B, C is no target", 1, "B", []string{"A", "B"}, []string{"C"},
			[]string{"sha-aaaaaaa: sha-aaaaaaa is on a rollback target of stable (1 promotion(s) back)"}, "A"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			client, err := registry.New(registry.WithFastBackoff(), registry.WithLease(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			ns := fmt.Sprintf("%s/r%d", reg.Host(), i)
			repo, _ := name.NewRepository(ns + "/prod/app")
			d := map[string]string{}
			expect := registry.ExpectNone
			for n, img := range []string{"A", "B", "C"} {
				src := registrytest.PushImage(t, ns+"/ci/app:"+img, registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: img}})
				if _, err := client.Promote(ctx, registry.PromoteRequest{
					Source: src, To: repo, Tags: []string{shaTag(img)}, Floating: []string{"stable"}, Expect: expect,
					Record: registry.PromotionRecord{Decision: registry.DecisionPass, Revision: img, Time: base.Add(time.Duration(n) * time.Minute)},
				}); err != nil {
					t.Fatal(err)
				}
				d[img], expect = src.DigestStr(), src.DigestStr()
			}
			if tt.rollbackTo != "" {
				if _, err := client.Rollback(ctx, registry.RollbackRequest{Repo: repo, Tag: "stable", To: d[tt.rollbackTo], Time: base.Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}

			cfg := config.Default()
			cfg.Retention.MinAge = 0
			cfg.Retention.Rules = []config.Rule{{Name: "commits", Class: "sha", OlderThan: config.Duration(time.Hour)}}
			cfg.Retention.RollbackTargets = tt.depth
			plan, res, err := Run(ctx, RunOptions{Repo: repo.String(), Config: &cfg, Apply: true, Access: Access{Records: client}, Now: base.Add(30 * 24 * time.Hour)})
			if err != nil {
				t.Fatalf("prune: %v", err)
			}
			if res.Count(StatusFailed) != 0 || len(res.Problems) != 0 {
				t.Fatalf("prune result: %+v", res)
			}
			if r, err := Render(plan, res); err == nil {
				t.Logf("plan:\n%s", r.Table)
			}
			var reasons []string
			for _, k := range plan.Kept {
				if k.Reason.Code == KeptRollback {
					reasons = append(reasons, k.Tag+": "+k.Reason.Text)
				}
			}
			want := slices.Clone(tt.reasons)
			slices.Sort(reasons)
			slices.Sort(want)
			if !slices.Equal(reasons, want) {
				t.Fatalf("rollback reasons %q, want %q", reasons, tt.reasons)
			}
			for _, img := range tt.reasons {
				tag := strings.SplitN(img, ":", 2)[0]
				if !slices.ContainsFunc(plan.Notes, func(n string) bool {
					return strings.HasPrefix(n, "kept: ") && strings.Contains(n, "["+tag+"] is a rollback target of stable")
				}) {
					t.Fatalf("no note of %s in %q", tag, plan.Notes)
				}
			}
			for _, img := range tt.kept {
				if _, ok := registrytest.Head(t, ns+"/prod/app@"+d[img]); !ok {
					t.Fatalf("%s was deleted", img)
				}
			}
			for _, img := range tt.gone {
				if _, ok := registrytest.Head(t, ns+"/prod/app@"+d[img]); ok {
					t.Fatalf("%s was kept", img)
				}
			}

			rb, err := client.Rollback(ctx, registry.RollbackRequest{Repo: repo, Tag: "stable", Time: base.Add(2 * time.Hour)})
			switch {
			case tt.rollback == "" && !errors.Is(err, registry.ErrNoRollbackTarget):
				t.Fatalf("rollback after the prune: %v, want it refused", err)
			case tt.rollback != "" && (err != nil || rb.To != d[tt.rollback]):
				t.Fatalf("rollback after the prune: %+v %v, want it on %s", rb, err, tt.rollback)
			}
		})
	}
}

// shaTag is image's sha-{sha7} tag: "A" is sha-aaaaaaa.
func shaTag(img string) string { return "sha-" + strings.Repeat(strings.ToLower(img), 7) }

// TestPropertyRollbackTargetsSurvive: over random registries, a rollback
// target and every tag on it survive Apply, whatever the rules say; and
// the property is not vacuous: without the targets, many would go.
func TestPropertyRollbackTargetsSurvive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	policy := mustPolicy(t, matrix(), "stable")
	n := 300
	if testing.Short() {
		n = 50
	}
	saved := 0
	for seed := range n {
		r := rand.New(rand.NewPCG(uint64(seed), 16))
		b := randomRegistry(r)
		before, _ := b.Facts(ctx)
		ds := before.sortedDigests()
		var in Inputs
		for i := range 1 + r.IntN(3) {
			in.Rollback = append(in.Rollback, RollbackTarget{Digest: ds[r.IntN(len(ds))], Tag: "stable", Steps: i + 1})
		}
		without := Evaluate(now, policy, before, Inputs{})
		for _, it := range without.Items {
			if it.Action == ActionDelete && rollbackOf(in.Rollback, mustHash(it.Digest)) != nil {
				saved++
			}
		}
		p := Evaluate(now, policy, before, in)
		if _, err := Apply(ctx, b, p, WithApplyJobs(1+r.IntN(4))); err != nil {
			t.Fatalf("seed %d: apply: %v", seed, err)
		}
		after, _ := b.Facts(ctx)
		afterTags := after.tagIndex()
		for _, rt := range in.Rollback {
			m, ok := after.Manifests[rt.Digest]
			if !ok {
				t.Fatalf("seed %d: rollback target %s is gone", seed, short(rt.Digest))
			}
			for _, tg := range before.Manifests[rt.Digest].Tags {
				if afterTags[tg] != rt.Digest {
					t.Fatalf("seed %d: tag %s of rollback target %s is gone (now on %v)", seed, tg, short(rt.Digest), m.Tags)
				}
			}
		}
	}
	if saved < n/4 {
		t.Errorf("only %d rollback targets over %d seeds would have gone without the rule: too tame", saved, n)
	}
	t.Logf("%d rollback targets kept that the rules would have deleted, over %d seeds", saved, n)
}
