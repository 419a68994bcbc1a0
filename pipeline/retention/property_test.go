package retention

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// thresholds are the policy's durations; random ages sit just around them.
var thresholds = []time.Duration{0, time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * day, 14 * day, 30 * day, 90 * day}

func randomAge(r *rand.Rand, src AgeSource) Age {
	if r.IntN(12) == 0 {
		return Age{Source: AgeUnknown}
	}
	base := thresholds[r.IntN(len(thresholds))]
	jitter := time.Duration(r.IntN(3)-1) * time.Minute
	return Age{Time: now.Add(-base - jitter), Source: src}
}

var tagPool = []string{
	"pr-%d-abcdef0", "feature-%d-abcdef1", "sha-%07x", "nightly-2026-02-%02d", "%d",
	"v1.%d.0", "1.2.%d", "latest", "dev", "stable", "mystery-%d",
}

// randomRegistry builds a registry with shared digests, indexes with
// children (some shared between indexes), referrers, untagged orphans and
// ages around every threshold.
func randomRegistry(r *rand.Rand) *memBackend {
	b := newMem()
	var images []v1.Hash
	for i := range 2 + r.IntN(25) {
		images = append(images, b.add(fmt.Sprintf("img%d", i), types.OCIManifestSchema1, randomAge(r, AgeFromLabel)))
	}
	roots := append([]v1.Hash(nil), images...)
	for i := range r.IntN(6) {
		var kids []v1.Hash
		for range 1 + r.IntN(3) {
			kids = append(kids, images[r.IntN(len(images))])
		}
		roots = append(roots, b.add(fmt.Sprintf("idx%d", i), types.OCIImageIndex, randomAge(r, AgeFromLabel), kids...))
	}
	for range r.IntN(40) {
		pat := tagPool[r.IntN(len(tagPool))]
		tag := pat
		if pat != "latest" && pat != "dev" && pat != "stable" {
			tag = fmt.Sprintf(pat, 1+r.IntN(28))
		}
		var age Age
		if r.IntN(4) == 0 {
			age = randomAge(r, AgeFromPromotion)
		}
		b.tag(tag, roots[r.IntN(len(roots))], age)
	}
	for i := range r.IntN(5) {
		b.referrer(fmt.Sprintf("sig%d", i), roots[r.IntN(len(roots))], randomAge(r, AgeFromLabel))
	}
	return b
}

func TestPropertyApplyIsSafe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	policy := mustPolicy(t, matrix(), "stable")
	policy.Rules = append(policy.Rules, Rule{Name: "semver", Class: "semver", KeepPerMinor: 1})
	n := 600
	if testing.Short() {
		n = 100
	}
	var deletes, untags int
	defer func() {
		if deletes < n || untags < n/10 {
			t.Errorf("randomized registries too tame: %d deletes, %d untags over %d seeds", deletes, untags, n)
		}
	}()
	for seed := range n {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		b := randomRegistry(r)
		before, _ := b.Facts(ctx)
		var in Inputs
		ds := before.sortedDigests()
		for range r.IntN(3) {
			in.InUse.Digests = append(in.InUse.Digests, ds[r.IntN(len(ds))])
		}
		tags := before.tagIndex()
		for tg := range tags {
			if _, fb := FallbackSubject(tg); !fb && r.IntN(15) == 0 {
				in.InUse.Tags = append(in.InUse.Tags, tg)
			}
		}
		p := Evaluate(now, policy, before, in)
		deletes += p.Summary.Delete
		untags += p.Summary.Untag
		res, err := Apply(ctx, b, p, WithApplyJobs(1+r.IntN(4)))
		if err != nil {
			t.Fatalf("seed %d: apply: %v", seed, err)
		}
		after, _ := b.Facts(ctx)
		check := func(format string, args ...any) {
			t.Helper()
			t.Errorf("seed %d: "+format, append([]any{seed}, args...)...)
		}
		afterTags := after.tagIndex()
		for _, k := range p.Kept {
			if k.Tag != "" && afterTags[k.Tag].String() != k.Digest {
				check("kept tag %s no longer resolves to %s", k.Tag, short(mustHash(k.Digest)))
			}
		}
		for d, m := range after.Manifests {
			for _, c := range m.Children {
				if _, ok := after.Manifests[c]; !ok {
					check("kept index %s lost child %s", short(d), short(c))
				}
			}
			if m.Subject != nil {
				if _, ok := after.Manifests[*m.Subject]; !ok {
					check("kept referrer %s lost subject %s", short(d), short(*m.Subject))
				}
			}
		}
		for d, m := range before.Manifests {
			_, still := after.Manifests[d]
			young := m.Age.Known() && now.Sub(m.Age.Time) < policy.MinAge
			for _, tg := range m.Tags {
				a := m.TagAges[tg]
				if _, fb := FallbackSubject(tg); !fb && a.Known() && now.Sub(a.Time) < policy.MinAge {
					young = true
					if afterTags[tg] != d {
						check("tag %s younger than minAge is gone", tg)
					}
				}
				if policy.isFloating(tg) && !still {
					check("digest %s behind floating tag %s is gone", short(d), tg)
				}
			}
			if young && !still {
				check("digest %s younger than minAge is gone", short(d))
			}
		}
		for _, d := range in.InUse.Digests {
			if _, ok := after.Manifests[d]; !ok {
				check("in-use digest %s is gone", short(d))
			}
		}
		for _, tg := range in.InUse.Tags {
			if afterTags[tg] != tags[tg] {
				check("in-use tag %s is gone", tg)
			}
		}
		for _, it := range p.Items {
			d := mustHash(it.Digest)
			switch it.Action {
			case ActionDelete:
				if _, ok := after.Manifests[d]; ok {
					check("planned delete %s still there", short(d))
				}
			case ActionUntag:
				if afterTags[it.Tag] == d {
					check("planned untag %s still there", it.Tag)
				}
			}
		}
		// Nothing outside the plan is gone.
		planned := map[v1.Hash]bool{}
		for _, it := range p.Items {
			if it.Action == ActionDelete {
				planned[mustHash(it.Digest)] = true
			}
		}
		for d := range before.Manifests {
			if _, ok := after.Manifests[d]; !ok && !planned[d] {
				check("%s deleted outside the plan", short(d))
			}
		}
		if res.Count(StatusDone) != len(p.Items) {
			check("%d of %d items done: %+v", res.Count(StatusDone), len(p.Items), res.Outcomes)
		}
	}
}

// TestApplyResumesAfterFailure: a delete that fails part-way leaves the
// rest consistent, and applying the same plan again completes it without
// deleting anything outside it.
func TestApplyResumesAfterFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newMem()
	c := b.add("child", types.OCIManifestSchema1, ago(now, 90*day, AgeFromLabel))
	idx := b.add("idx", types.OCIImageIndex, ago(now, 90*day, AgeFromLabel), c)
	b.tag("pr-1-abcdef0", idx, Age{})
	b.tag("pr-2-abcdef0", b.add("other", types.OCIManifestSchema1, ago(now, 90*day, AgeFromLabel)), Age{})
	b.tag("v1.0.0", b.add("rel", types.OCIManifestSchema1, ago(now, 90*day, AgeFromLabel)), Age{})
	f, _ := b.Facts(ctx)
	p := Evaluate(now, mustPolicy(t, matrix()), f, Inputs{})
	if len(p.Items) != 3 {
		t.Fatalf("plan: %+v", p.Items)
	}
	b.fail[idx] = true
	res, err := Apply(ctx, b, p)
	if err == nil {
		t.Fatal("apply with a failing delete succeeded")
	}
	if res.Count(StatusFailed) != 1 || res.Count(StatusSkipped) != 1 || res.Count(StatusDone) != 1 {
		t.Fatalf("outcomes: %+v", res.Outcomes)
	}
	if _, ok := b.manifests[c]; !ok {
		t.Fatal("the child of an index that failed to go was deleted")
	}
	delete(b.fail, idx)
	res, err = Apply(ctx, b, p)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if res.Count(StatusDone) != 2 || res.Count(StatusGone) != 1 {
		t.Fatalf("second outcomes: %+v", res.Outcomes)
	}
	if _, ok := b.manifests[hashOf("rel")]; !ok || len(b.deleted) != 3 {
		t.Fatalf("deleted %v", b.deleted)
	}
}

// TestApplyRefusesChanged: a reviewed plan refuses items whose digest
// changed since, and what they still need.
func TestApplyRefusesChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newMem()
	c := b.add("child", types.OCIManifestSchema1, ago(now, 90*day, AgeFromLabel))
	idx := b.add("idx", types.OCIImageIndex, ago(now, 90*day, AgeFromLabel), c)
	b.tag("pr-1-abcdef0", idx, Age{})
	shared := b.add("shared", types.OCIManifestSchema1, ago(now, 90*day, AgeFromLabel))
	b.tag("pr-2-abcdef0", shared, Age{})
	b.tag("v1", shared, Age{})
	f, _ := b.Facts(ctx)
	p := Evaluate(now, mustPolicy(t, matrix()), f, Inputs{})
	// Since the review: the index got a new tag; pr-2 moved.
	b.tag("deployed", idx, Age{})
	b.tag("pr-2-abcdef0", b.add("new", types.OCIManifestSchema1, ago(now, time.Hour, AgeFromLabel)), Age{})
	res, err := Apply(ctx, b, p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if res.Count(StatusRefused) != 3 {
		t.Fatalf("want 3 refused (index, its child, moved tag): %+v", res.Outcomes)
	}
	if len(b.deleted) != 0 || b.tags["pr-2-abcdef0"] != hashOf("new") {
		t.Fatalf("deleted %v, pr-2 -> %s", b.deleted, b.tags["pr-2-abcdef0"])
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }
