package retention

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const day = 24 * time.Hour

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustPolicy(t testing.TB, r config.Retention, floating ...string) *Policy {
	t.Helper()
	p, err := NewPolicy(r, floating)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// matrix is the seeds' retention matrix.
func matrix() config.Retention {
	return config.Retention{
		MinAge:  config.Duration(48 * time.Hour),
		Protect: []string{`^latest$`, `^dev$`, `^v`},
		Rules: []config.Rule{
			{Name: "pull-requests", Match: `^pr-`, OlderThan: config.Duration(24 * time.Hour)},
			{Name: "features", Match: `^feature-`, OlderThan: config.Duration(7 * day)},
			{Name: "commits", Class: "sha", OlderThan: config.Duration(30 * day), Keep: 2},
			{Name: "nightlies", Class: "nightly", OlderThan: config.Duration(7 * day)},
			{Name: "runs", Match: `^\d+$`, OlderThan: config.Duration(14 * day)},
		},
		Untagged: config.Untagged{OlderThan: config.Duration(24 * time.Hour)},
	}
}

func itemsByTag(p *Plan) map[string]Item {
	out := map[string]Item{}
	for _, it := range p.Items {
		if it.Action == ActionUntag {
			out[it.Tag] = it
			continue
		}
		for _, t := range it.Tags {
			out[t] = it
		}
		if len(it.Tags) == 0 {
			out[it.Digest] = it
		}
	}
	return out
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	label := AgeFromLabel
	tests := []struct {
		name    string
		setup   func(b *memBackend)
		in      func(b *memBackend) Inputs
		policy  config.Retention
		gone    []string // tags (or digests) the plan deletes or untags
		kept    []string // tags kept
		reasons map[string]string
	}{
		{
			name: "rules by match and class, first match decides",
			setup: func(b *memBackend) {
				b.tag("pr-12-abcdef0", b.add("a", types.OCIManifestSchema1, ago(now, 3*day, label)), Age{})
				b.tag("pr-13-abcdef1", b.add("b", types.OCIManifestSchema1, ago(now, 49*time.Hour, label)), Age{})
				b.tag("feature-x-abcdef2", b.add("c", types.OCIManifestSchema1, ago(now, 6*day, label)), Age{})
				b.tag("nightly-2026-02-20", b.add("d", types.OCIManifestSchema1, Age{}), Age{})
				b.tag("nightly-2026-02-27", b.add("e", types.OCIManifestSchema1, Age{}), Age{})
				b.tag("1234", b.add("f", types.OCIManifestSchema1, ago(now, 15*day, label)), Age{})
				b.tag("v1.0.0", b.add("g", types.OCIManifestSchema1, ago(now, 400*day, label)), Age{})
				b.tag("mystery", b.add("h", types.OCIManifestSchema1, ago(now, 400*day, label)), Age{})
			},
			policy: matrix(),
			gone:   []string{"pr-12-abcdef0", "pr-13-abcdef1", "nightly-2026-02-20", "1234"},
			kept:   []string{"feature-x-abcdef2", "nightly-2026-02-27", "v1.0.0", "mystery"},
			reasons: map[string]string{
				"pr-12-abcdef0":      "expired by rule pull-requests (olderThan 1d): age 3d from created-label",
				"nightly-2026-02-20": "from tag-date",
			},
		},
		{
			name: "the promotion lease and the publish tag are never a rule's to delete",
			setup: func(b *memBackend) {
				b.tag("slipway-lease", b.add("lease", types.OCIManifestSchema1, ago(now, 90*day, label)), Age{})
				b.tag("slipway-publish", b.add("staged", types.OCIManifestSchema1, ago(now, 90*day, label)), Age{})
				b.tag("old-abcdef0", b.add("old", types.OCIManifestSchema1, ago(now, 90*day, label)), Age{})
			},
			policy: config.Retention{Rules: []config.Rule{{Name: "everything", Match: `.`, OlderThan: config.Duration(day)}}},
			gone:   []string{"old-abcdef0"},
			kept:   []string{"slipway-lease", "slipway-publish"},
		},
		{
			name: "keep newest N, unknown age and minAge",
			setup: func(b *memBackend) {
				for i, age := range []time.Duration{40 * day, 50 * day, 60 * day, 70 * day} {
					b.tag("sha-abcdef"+string(rune('0'+i)), b.add("s"+string(rune('0'+i)), types.OCIManifestSchema1, ago(now, age, label)), Age{})
				}
				b.tag("sha-1111111", b.add("young", types.OCIManifestSchema1, ago(now, time.Hour, label)), Age{})
				b.tag("sha-2222222", b.add("unknown", types.OCIManifestSchema1, Age{}), Age{})
			},
			policy: matrix(),
			// Newest 2 by age: the unknown one counts as newest, then the 1h one.
			gone: []string{"sha-abcdef0", "sha-abcdef1", "sha-abcdef2", "sha-abcdef3"},
			kept: []string{"sha-1111111", "sha-2222222"},
		},
		{
			name: "shared digest: untag the expired tag, keep the digest",
			setup: func(b *memBackend) {
				d := b.add("shared", types.OCIManifestSchema1, ago(now, 60*day, label))
				b.tag("sha-abcdef0", d, Age{})
				b.tag("v1.2.3", d, Age{})
			},
			policy:  config.Retention{Protect: []string{`^v`}, Rules: []config.Rule{{Name: "commits", Class: "sha", OlderThan: config.Duration(30 * day)}}},
			gone:    []string{"sha-abcdef0"},
			kept:    []string{"v1.2.3"},
			reasons: map[string]string{"sha-abcdef0": "expired by rule commits"},
		},
		{
			name: "promotion record makes a retagged release young",
			setup: func(b *memBackend) {
				d := b.add("rel", types.OCIManifestSchema1, ago(now, 90*day, label))
				b.tag("1.2.3", d, ago(now, time.Hour, AgeFromPromotion))
			},
			policy: config.Retention{Rules: []config.Rule{{Name: "old", Match: `.`, OlderThan: config.Duration(day)}}},
			kept:   []string{"1.2.3"},
		},
		{
			name: "floating and in-use digests win over every rule",
			setup: func(b *memBackend) {
				b.tag("stable", b.add("st", types.OCIManifestSchema1, ago(now, 90*day, label)), Age{})
				b.tag("sha-abcdef1", hashOf("st"), Age{})
				b.tag("sha-abcdef2", b.add("deployed", types.OCIManifestSchema1, ago(now, 90*day, label)), Age{})
				b.tag("sha-abcdef3", b.add("bytag", types.OCIManifestSchema1, ago(now, 90*day, label)), Age{})
				b.tag("sha-abcdef4", b.add("gone", types.OCIManifestSchema1, ago(now, 90*day, label)), Age{})
			},
			in: func(b *memBackend) Inputs {
				return Inputs{InUse: InUse{Digests: []v1.Hash{hashOf("deployed")}, Tags: []string{"sha-abcdef3"}}}
			},
			policy: config.Retention{Rules: []config.Rule{{Name: "commits", Class: "sha", OlderThan: config.Duration(day)}}},
			gone:   []string{"sha-abcdef4"},
			kept:   []string{"stable", "sha-abcdef1", "sha-abcdef2", "sha-abcdef3"},
		},
		{
			name: "multi-arch: untagged children live with their kept index and go with an expired one",
			setup: func(b *memBackend) {
				k1 := b.add("k1", types.OCIManifestSchema1, ago(now, 90*day, label))
				k2 := b.add("k2", types.OCIManifestSchema1, ago(now, 90*day, label))
				b.tag("v2.0.0", b.add("kept-index", types.OCIImageIndex, ago(now, 90*day, label), k1, k2), Age{})
				g1 := b.add("g1", types.OCIManifestSchema1, ago(now, 90*day, label))
				b.tag("pr-1-abcdef0", b.add("gone-index", types.OCIImageIndex, ago(now, 90*day, label), g1, k1), Age{})
				b.add("orphan", types.OCIManifestSchema1, ago(now, 90*day, AgeFromRegistry))
				b.add("young-orphan", types.OCIManifestSchema1, ago(now, 30*time.Hour, AgeFromRegistry))
			},
			policy: matrix(),
			gone:   []string{"pr-1-abcdef0", hashOf("g1").String(), hashOf("orphan").String()},
			kept:   []string{"v2.0.0"},
		},
		{
			name: "referrers go with their subject and stay with a kept one",
			setup: func(b *memBackend) {
				old := b.add("old", types.OCIManifestSchema1, ago(now, 90*day, label))
				b.tag("pr-2-abcdef0", old, Age{})
				b.referrer("sig-old", old, ago(now, 90*day, label))
				keep := b.add("keep", types.OCIManifestSchema1, ago(now, 90*day, label))
				b.tag("v3.0.0", keep, Age{})
				b.referrer("sig-keep", keep, ago(now, 90*day, label))
			},
			policy: matrix(),
			gone:   []string{"pr-2-abcdef0", "sha256-" + hashOf("old").Hex, hashOf("sig-old").String()},
			kept:   []string{"v3.0.0", "sha256-" + hashOf("keep").Hex},
		},
		{
			name: "keepPerMinor keeps the newest patches of each minor",
			setup: func(b *memBackend) {
				for _, v := range []string{"1.2.1", "1.2.2", "1.2.3", "1.3.0", "1.3.1", "2.0.0"} {
					b.tag(v, b.add(v, types.OCIManifestSchema1, ago(now, 90*day, label)), Age{})
				}
			},
			policy: config.Retention{Rules: []config.Rule{{Name: "releases", Class: "semver", KeepPerMinor: 2}}},
			gone:   []string{"1.2.1"},
			kept:   []string{"1.2.2", "1.2.3", "1.3.0", "1.3.1", "2.0.0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newMem()
			tc.setup(b)
			f, _ := b.Facts(context.Background())
			in := Inputs{}
			if tc.in != nil {
				in = tc.in(b)
			}
			p := Evaluate(now, mustPolicy(t, tc.policy, "stable"), f, in)
			got := itemsByTag(p)
			for _, g := range tc.gone {
				if _, ok := got[g]; !ok {
					t.Errorf("%s: not in the plan; items %+v", g, p.Items)
				}
			}
			if len(got) != len(tc.gone) {
				// every removed tag of a deleted digest appears; compare the set
				want := map[string]bool{}
				for _, g := range tc.gone {
					want[g] = true
				}
				for k := range got {
					if !want[k] {
						t.Errorf("%s: in the plan, unexpected: %+v", k, got[k])
					}
				}
			}
			keptTags := map[string]bool{}
			for _, k := range p.Kept {
				keptTags[k.Tag] = true
			}
			for _, k := range tc.kept {
				if !keptTags[k] {
					if _, fb := FallbackSubject(k); !fb {
						t.Errorf("%s: not kept", k)
					}
				}
				if it, ok := got[k]; ok {
					t.Errorf("%s: kept but in the plan: %+v", k, it)
				}
			}
			for tag, want := range tc.reasons {
				if !strings.Contains(got[tag].Reason.Text, want) {
					t.Errorf("%s: reason %q, want it to contain %q", tag, got[tag].Reason.Text, want)
				}
			}
			// Applying it through a distribution-like registry keeps every kept tag.
			res, err := Apply(context.Background(), b, p)
			if err != nil {
				t.Fatalf("apply: %v (%+v)", err, res)
			}
		})
	}
}

func TestEvaluateWavesParentsFirst(t *testing.T) {
	t.Parallel()
	b := newMem()
	c := b.add("child", types.OCIManifestSchema1, ago(now, 90*day, AgeFromLabel))
	idx := b.add("idx", types.OCIImageIndex, ago(now, 90*day, AgeFromLabel), c)
	b.tag("pr-1-abcdef0", idx, Age{})
	b.referrer("sig", idx, ago(now, 90*day, AgeFromLabel))
	f, _ := b.Facts(context.Background())
	p := Evaluate(now, mustPolicy(t, matrix()), f, Inputs{})
	wave := map[string]int{}
	for _, it := range p.Items {
		wave[it.Digest] = it.Wave
	}
	fb, _ := f.TagDigest("sha256-" + idx.Hex)
	order := []v1.Hash{fb, hashOf("sig"), idx, c}
	for i := 1; i < len(order); i++ {
		if wave[order[i-1].String()] >= wave[order[i].String()] {
			t.Errorf("wave of %s (%d) not before %s (%d)", short(order[i-1]), wave[order[i-1].String()], short(order[i]), wave[order[i].String()])
		}
	}
}
