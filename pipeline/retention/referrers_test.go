package retention

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// TestPromotionRecordsOnEveryRegistry: on a registry with the OCI 1.1
// referrers API (where a record has no fallback tag) as on distribution
// 2.8 (where it sits in the sha256-<hex> index), a tag promoted minutes ago
// onto an image built 30 days ago is dated by its promotion record, and
// pruning a promoted image deletes its record too.
func TestPromotionRecordsOnEveryRegistry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []registrytest.Option
	}{
		{"distribution", nil},
		{"referrers-api", []registrytest.Option{registrytest.ReferrersAPI()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t, tc.opts...)
			ctx := context.Background()
			repo, _ := name.NewRepository(reg.Host() + "/acme/app")
			fresh := registrytest.PushImage(t, reg.Ref("src/app:fresh"), registrytest.ImageSpec{Labels: created(30 * day)})
			stale := registrytest.PushImage(t, reg.Ref("src/app:stale"), registrytest.ImageSpec{Labels: created(30 * day)})
			rc, err := registry.New(registry.WithFastBackoff(), registry.WithLease(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			promote := func(src name.Digest, tag string, at time.Time) string {
				res, err := rc.Promote(ctx, registry.PromoteRequest{Source: src, To: repo, Tags: []string{tag},
					Record: registry.PromotionRecord{Decision: registry.DecisionManual, Time: at}})
				if err != nil {
					t.Fatal(err)
				}
				return res.Record
			}
			freshRec := promote(fresh, "main-1111111", now.Add(-5*time.Minute))
			staleRec := promote(stale, "main-2222222", now.Add(-30*day))

			b, err := NewOCI(repo, fastRetry, WithRecords(ClientRecords{Client: rc}))
			if err != nil {
				t.Fatal(err)
			}
			f, err := b.Facts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			m := f.Manifests[mustHash(fresh.DigestStr())]
			if m == nil {
				t.Fatalf("promoted image %s not in the facts", fresh.DigestStr())
			}
			if a := m.TagAges["main-1111111"]; a.Source != AgeFromPromotion || now.Sub(a.Time) > time.Hour {
				t.Fatalf("main-1111111 age %+v, want the promotion record's (5 minutes)", a)
			}
			policy := mustPolicy(t, config.Retention{
				MinAge: config.Duration(48 * time.Hour),
				Rules:  []config.Rule{{Name: "branches", Match: `^main-`, OlderThan: config.Duration(7 * day)}},
			})
			p := Evaluate(now, policy, f, Inputs{})
			if res, err := Apply(ctx, b, p); err != nil {
				t.Fatalf("apply: %v\n%+v", err, res)
			}
			for _, gone := range []name.Reference{repo.Digest(stale.DigestStr()), repo.Digest(staleRec), repo.Tag("main-2222222")} {
				if exists(t, gone) {
					t.Errorf("%s survived the prune of %s", gone, stale.DigestStr())
				}
			}
			idx, err := remote.Referrers(repo.Digest(stale.DigestStr()))
			if err != nil {
				t.Fatal(err)
			}
			if im, _ := idx.IndexManifest(); len(im.Manifests) != 0 {
				t.Errorf("the referrers of the deleted image still list %v", im.Manifests)
			}
			for _, kept := range []name.Reference{repo.Tag("main-1111111"), repo.Digest(freshRec)} {
				if !exists(t, kept) {
					t.Errorf("%s is gone", kept)
				}
			}
			recs, err := rc.ReadPromotionRecords(ctx, repo.Digest(fresh.DigestStr()))
			if err != nil || len(recs) != 1 {
				t.Fatalf("records of the kept image: %v, %v", recs, err)
			}
		})
	}
}
