package retention

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// cosignTag is cosign's tag of d's signature (sig), attestations (att) or
// SBOM (sbom).
func cosignTag(d name.Digest, suffix string) name.Tag {
	return d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + "." + suffix)
}

// TestPruneKeepsAttestationsWithTheirSubject: cosign's tags
// (sha256-<hex>.att, .sig) and the attestation referrers Slipway writes
// belong to their subject: no rule expires them, not even one matching
// every tag and given an age; they stay while it stays and go when it goes.
func TestPruneKeepsAttestationsWithTheirSubject(t *testing.T) {
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
			kept := registrytest.PushImage(t, repo.Tag("v1.2.3").String(), registrytest.ImageSpec{Labels: created(90 * day)})
			gone := registrytest.PushImage(t, repo.Tag("pr-1-abcdef0").String(), registrytest.ImageSpec{Labels: created(30 * day)})
			rc, err := registry.New(registry.WithFastBackoff(), registry.WithLease(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []name.Digest{kept, gone} {
				env, _ := json.Marshal(map[string]string{"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "subject": d.DigestStr()})
				if err := rc.AttachAttestations(ctx, d, []registry.Attestation{{PredicateType: "https://in-toto.io/attestation/test-result/v0.1", Envelope: env}}); err != nil {
					t.Fatal(err)
				}
				// A signature image whose label dates it 60 days back (as
				// GHCR's created_at would): old enough for the catch-all.
				registrytest.PushImage(t, cosignTag(d, "sig").String(), registrytest.ImageSpec{LayerSize: 128, Labels: created(60 * day)})
			}
			b, err := NewOCI(repo, fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			f, err := b.Facts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			policy := mustPolicy(t, config.Retention{
				MinAge:  config.Duration(48 * time.Hour),
				Protect: []string{`^v`},
				Rules: []config.Rule{
					{Name: "pull-requests", Match: `^pr-`, OlderThan: config.Duration(day)},
					{Name: "everything", Match: `.*`, OlderThan: config.Duration(7 * day)},
				},
				Untagged: config.Untagged{OlderThan: config.Duration(day)},
			})
			p := Evaluate(time.Now(), policy, f, Inputs{})
			for _, it := range p.Items {
				if it.Reason.Rule == "everything" {
					t.Errorf("a rule matched %s %s: %s", it.Tag, it.Tags, it.Reason.Text)
				}
			}
			if res, err := Apply(ctx, b, p); err != nil {
				t.Fatalf("apply: %v\n%+v", err, res)
			}

			for _, ref := range []name.Reference{repo.Tag("v1.2.3"), cosignTag(kept, "att"), cosignTag(kept, "sig")} {
				if !exists(t, ref) {
					t.Errorf("%s is gone with its subject kept", ref)
				}
			}
			atts, err := rc.Attestations(ctx, kept)
			if err != nil || len(atts) != 1 {
				t.Fatalf("attestations of the kept image: %d, %v", len(atts), err)
			}
			if refs := referrersOf(t, kept); len(refs) != 1 {
				t.Fatalf("referrers of the kept image: %v", refs)
			}
			for _, ref := range []name.Reference{gone, cosignTag(gone, "att"), cosignTag(gone, "sig")} {
				if exists(t, ref) {
					t.Errorf("%s survived the prune of its subject", ref)
				}
			}
			if refs := referrersOf(t, gone); len(refs) != 0 {
				t.Errorf("the referrers of the pruned image still list %v", refs)
			}
		})
	}
}

func referrersOf(t *testing.T, d name.Digest) []string {
	t.Helper()
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range im.Manifests {
		out = append(out, m.Digest.String())
	}
	return out
}

// TestCosignTagsInThePlan: in the plan, cosign's tags follow their
// subject's fate and no rule's; one whose subject is not in the repository
// (cosign can keep signatures apart, COSIGN_REPOSITORY) is kept.
func TestCosignTagsInThePlan(t *testing.T) {
	t.Parallel()
	b := newMem()
	old := b.add("old", types.OCIManifestSchema1, ago(now, 90*day, AgeFromRegistry))
	b.tag("pr-2-abcdef0", old, Age{})
	keep := b.add("keep", types.OCIManifestSchema1, ago(now, 90*day, AgeFromRegistry))
	b.tag("v3.0.0", keep, Age{})
	elsewhere := hashOf("an image in another repository")
	for _, s := range []struct {
		subject string
		hex     string
	}{{"old", old.Hex}, {"keep", keep.Hex}, {"elsewhere", elsewhere.Hex}} {
		for _, suffix := range []string{"sig", "att", "sbom"} {
			d := b.add(s.subject+"."+suffix, types.OCIManifestSchema1, ago(now, 90*day, AgeFromRegistry))
			b.tag("sha256-"+s.hex+"."+suffix, d, ago(now, 90*day, AgeFromRegistry))
		}
	}
	// Attested an hour ago, an image 90 days old: the young .att (minAge)
	// keeps its subject, as a young referrer does; the expired tag goes.
	late := b.add("late", types.OCIManifestSchema1, ago(now, 90*day, AgeFromRegistry))
	b.tag("pr-3-abcdef0", late, Age{})
	lateAtt := b.add("late.att", types.OCIManifestSchema1, ago(now, time.Hour, AgeFromRegistry))
	b.tag("sha256-"+late.Hex+".att", lateAtt, ago(now, time.Hour, AgeFromRegistry))
	policy := matrix()
	policy.Rules = append(policy.Rules, config.Rule{Name: "everything", Match: `.*`, OlderThan: config.Duration(7 * day)})
	f, _ := b.Facts(context.Background())
	p := Evaluate(now, mustPolicy(t, policy), f, Inputs{})
	got := itemsByTag(p)
	for _, suffix := range []string{"sig", "att", "sbom"} {
		goneTag := "sha256-" + old.Hex + "." + suffix
		if it, ok := got[goneTag]; !ok || it.Action != ActionDelete || it.Reason.Code != BySubject {
			t.Errorf("%s: %+v, want deleted with its subject", goneTag, it)
		}
		for _, kept := range []string{"sha256-" + keep.Hex + "." + suffix, "sha256-" + elsewhere.Hex + "." + suffix} {
			if it, ok := got[kept]; ok {
				t.Errorf("%s: in the plan: %+v", kept, it)
			}
		}
	}
	if it := got["pr-2-abcdef0"]; it.Action != ActionDelete {
		t.Errorf("pr-2-abcdef0: %+v, want deleted", it)
	}
	if it := got["pr-3-abcdef0"]; it.Action != ActionUntag {
		t.Errorf("pr-3-abcdef0: %+v, want untagged, its digest kept for its young .att", it)
	}
	if it, ok := got["sha256-"+late.Hex+".att"]; ok {
		t.Errorf("the young .att is in the plan: %+v", it)
	}
	for _, k := range p.Kept {
		if k.Reason.Rule == "everything" {
			t.Errorf("a rule decided %s %s: %s", k.Digest, k.Tag, k.Reason.Text)
		}
	}
	if _, err := Apply(context.Background(), b, p); err != nil {
		t.Fatal(err)
	}
}
