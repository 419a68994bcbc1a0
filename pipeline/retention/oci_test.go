package retention

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var fastRetry = WithRemote(remote.WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 2, Steps: 3}))

func created(age time.Duration) map[string]string {
	return map[string]string{CreatedLabel: time.Now().Add(-age).UTC().Format(time.RFC3339)}
}

// fixture is a repository with every shape retention must get right.
type fixture struct {
	repo                       name.Repository
	oldPR, youngPR, shared     name.Digest
	keptIndex, goneIndex, sig  name.Digest
	keptChildren, goneChildren []v1.Hash
	tags                       int
}

func pushFixture(t *testing.T, host string) fixture {
	t.Helper()
	repo, err := name.NewRepository(host + "/acme/app")
	if err != nil {
		t.Fatal(err)
	}
	ref := func(tag string) string { return repo.Tag(tag).String() }
	var fx fixture
	fx.repo = repo
	fx.oldPR = registrytest.PushImage(t, ref("pr-1-abcdef0"), registrytest.ImageSpec{Labels: created(10 * day)})
	fx.youngPR = registrytest.PushImage(t, ref("pr-2-abcdef0"), registrytest.ImageSpec{Labels: created(time.Hour)})
	fx.shared = registrytest.PushImage(t, ref("sha-abcdef0"), registrytest.ImageSpec{Labels: created(60 * day)})
	if err := remote.Tag(repo.Tag("v1.0.0"), mustGet(t, fx.shared)); err != nil {
		t.Fatal(err)
	}
	fx.keptIndex = registrytest.PushIndex(t, ref("v2.0.0"),
		registrytest.ImageSpec{Labels: created(90 * day)}, registrytest.ImageSpec{Labels: created(90 * day)})
	fx.goneIndex = registrytest.PushIndex(t, ref("pr-3-abcdef0"),
		registrytest.ImageSpec{Labels: created(90 * day)}, registrytest.ImageSpec{Labels: created(90 * day)})
	fx.sig = registrytest.PushReferrer(t, fx.oldPR, "application/vnd.dev.cosign.artifact.sig.v1+json")
	fx.keptChildren = children(t, fx.keptIndex)
	fx.goneChildren = children(t, fx.goneIndex)
	fx.tags = 7 // 6 tags + the referrers fallback tag
	return fx
}

func mustGet(t *testing.T, d name.Digest) *remote.Descriptor {
	t.Helper()
	desc, err := remote.Get(d)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

func children(t *testing.T, d name.Digest) []v1.Hash {
	t.Helper()
	idx, err := mustGet(t, d).ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Hash
	for _, m := range im.Manifests {
		out = append(out, m.Digest)
	}
	return out
}

func exists(t *testing.T, ref name.Reference) bool {
	t.Helper()
	_, err := remote.Head(ref)
	if err != nil && !isNotFound(err) {
		t.Fatalf("head %s: %v", ref, err)
	}
	return err == nil
}

func TestOCIAgainstRegistry(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	fx := pushFixture(t, reg.Host())
	ctx := context.Background()
	b, err := NewOCI(fx.repo, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Listing (the ping, one page, one GET per tag) + at most 2 per digest.
	if max := int64(2 + fx.tags + 2*len(f.Manifests)); f.Requests > max {
		t.Errorf("facts took %d requests, want ≤ %d", f.Requests, max)
	}
	pr := f.Manifests[mustHash(fx.oldPR.DigestStr())]
	if pr == nil || pr.TagAges["pr-1-abcdef0"].Source != AgeFromLabel {
		t.Fatalf("old PR facts: %+v", pr)
	}
	sig := f.Manifests[mustHash(fx.sig.DigestStr())]
	if sig == nil || sig.Subject == nil || sig.Subject.String() != fx.oldPR.DigestStr() {
		t.Fatalf("referrer facts: %+v", sig)
	}
	if m := f.Manifests[mustHash(fx.keptIndex.DigestStr())]; m == nil || len(m.Children) != 2 || !m.TagAges["v2.0.0"].Known() {
		t.Fatalf("index facts: %+v", m)
	}

	policy := mustPolicy(t, config.Retention{
		MinAge:  config.Duration(48 * time.Hour),
		Protect: []string{`^v`},
		Rules: []config.Rule{
			{Name: "pull-requests", Class: "pr", OlderThan: config.Duration(day)},
			{Name: "commits", Class: "sha", OlderThan: config.Duration(30 * day)},
		},
		Untagged: config.Untagged{OlderThan: config.Duration(day)},
	})
	p := Evaluate(time.Now(), policy, f, Inputs{})
	if p.Summary.Delete != 6 || p.Summary.Untag != 1 {
		t.Fatalf("plan: %+v", p.Items)
	}
	res, err := Apply(ctx, b, p)
	if err != nil {
		t.Fatalf("apply: %v\n%+v", err, res)
	}
	for _, gone := range []name.Reference{fx.oldPR, fx.goneIndex, fx.sig, fx.repo.Tag("sha-abcdef0"), fx.repo.Tag("pr-3-abcdef0")} {
		if exists(t, gone) {
			t.Errorf("%s still there", gone)
		}
	}
	for _, c := range fx.goneChildren {
		if exists(t, fx.repo.Digest(c.String())) {
			t.Errorf("child %s of the deleted index still there", short(c))
		}
	}
	for _, kept := range []name.Reference{fx.youngPR, fx.repo.Tag("v1.0.0"), fx.repo.Tag("v2.0.0"), fx.shared} {
		if !exists(t, kept) {
			t.Errorf("%s is gone", kept)
		}
	}
	for _, c := range fx.keptChildren {
		if !exists(t, fx.repo.Digest(c.String())) {
			t.Errorf("child %s of the kept index is gone", short(c))
		}
	}
}

// TestOCIFaultResume: a registry failing a delete part-way leaves a
// consistent registry; applying again completes the plan and deletes
// nothing outside it.
func TestOCIFaultResume(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	fx := pushFixture(t, reg.Host())
	ctx := context.Background()
	proxy := registrytest.NewFaultProxy(t, reg.Host(), 1,
		&registrytest.Rule{Method: http.MethodDelete, Path: "/manifests/" + fx.goneIndex.DigestStr() + "$", Fault: registrytest.Status, Status: 500},
		&registrytest.Rule{Method: http.MethodDelete, Path: "/manifests/", Fault: registrytest.Reset, First: 1},
	)
	repo, _ := name.NewRepository(proxy.Host() + "/acme/app")
	b, err := NewOCI(repo, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	before, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	policy := mustPolicy(t, matrix())
	p := Evaluate(time.Now(), policy, before, Inputs{})
	planned := map[v1.Hash]bool{}
	for _, it := range p.Items {
		if it.Action == ActionDelete {
			planned[mustHash(it.Digest)] = true
		}
	}
	res, err := Apply(ctx, b, p)
	if err == nil {
		t.Fatalf("apply through a failing registry succeeded: %+v", res)
	}
	if res.Count(StatusFailed) == 0 || res.Count(StatusSkipped) != len(fx.goneChildren) {
		t.Fatalf("outcomes: %+v", res.Outcomes)
	}
	for _, c := range fx.goneChildren {
		if !exists(t, fx.repo.Digest(c.String())) {
			t.Fatalf("child %s deleted while its index failed to go", short(c))
		}
	}
	if err := proxy.SetRules(); err != nil {
		t.Fatal(err)
	}
	res, err = Apply(ctx, b, p)
	if err != nil {
		t.Fatalf("second apply: %v\n%+v", err, res)
	}
	after, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for d := range before.Manifests {
		_, still := after.Manifests[d]
		if planned[d] == still {
			t.Errorf("%s: planned %v, still there %v", short(d), planned[d], still)
		}
	}
}

// TestOCIPromotionRecordAge: a release promoted by retag is as young as its
// promotion, whatever its build's created label says.
func TestOCIPromotionRecordAge(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	ctx := context.Background()
	repo, _ := name.NewRepository(reg.Host() + "/acme/app")
	src := registrytest.PushImage(t, repo.Tag("sha-abcdef0").String(), registrytest.ImageSpec{Labels: created(90 * day)})
	rc, err := registry.New(registry.WithFastBackoff(), registry.WithLease(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	promotedAt := time.Now().Add(-time.Hour).UTC()
	if _, err := rc.Promote(ctx, registry.PromoteRequest{Source: src, To: repo, Tags: []string{"1.2.3"},
		Record: registry.PromotionRecord{Decision: registry.DecisionManual, Time: promotedAt}}); err != nil {
		t.Fatal(err)
	}
	b, err := NewOCI(repo, fastRetry, WithRecords(ClientRecords{Client: rc}))
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Manifests[mustHash(src.DigestStr())]
	if a := m.TagAges["1.2.3"]; a.Source != AgeFromPromotion || !a.Time.Equal(promotedAt) {
		t.Fatalf("1.2.3 age %+v, want the promotion's %s", a, promotedAt)
	}
	if a := m.TagAges["sha-abcdef0"]; a.Source != AgeFromLabel {
		t.Fatalf("sha-abcdef0 age %+v, want the label's", a)
	}
}
