package retention

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// TestTagHEAD: resolving tags with HEAD (Docker Hub's default, where a
// manifest GET counts as a pull) reads the same facts as with GET, with
// no manifest GET by tag and one GET per distinct manifest.
func TestTagHEAD(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	fx := pushFixture(t, reg.Host())
	ctx := context.Background()
	facts := map[bool]*Facts{}
	for _, head := range []bool{false, true} {
		proxy := registrytest.NewFaultProxy(t, reg.Host(), 1)
		repo, _ := name.NewRepository(proxy.Host() + "/acme/app")
		b, err := NewOCI(repo, fastRetry, WithTagHEAD(head))
		if err != nil {
			t.Fatal(err)
		}
		f, err := b.Facts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		facts[head] = f
		byTag, byDigest := 0, map[string]int{}
		for _, r := range proxy.Log() {
			if r.Method != http.MethodGet || !strings.Contains(r.Path, "/manifests/") {
				continue
			}
			if i := strings.Index(r.Path, "/manifests/sha256:"); i >= 0 {
				byDigest[r.Path[i:]]++
			} else {
				byTag++
			}
		}
		if head && byTag > 1 { // the referrers probe may read one fallback tag
			t.Errorf("HEAD mode sent %d manifest GETs by tag", byTag)
		}
		for p, n := range byDigest {
			if n > 1 {
				t.Errorf("%s read %d times", p, n)
			}
		}
	}
	if len(facts[true].Manifests) != len(facts[false].Manifests) || len(facts[true].Manifests) == 0 {
		t.Fatalf("HEAD mode read %d manifests, GET mode %d", len(facts[true].Manifests), len(facts[false].Manifests))
	}
	for d, m := range facts[false].Manifests {
		h := facts[true].Manifests[d]
		if h == nil || !reflect.DeepEqual(h.Tags, m.Tags) || !reflect.DeepEqual(h.TagAges, m.TagAges) || !reflect.DeepEqual(h.Children, m.Children) {
			t.Errorf("%s: HEAD mode %+v, GET mode %+v", short(d), h, m)
		}
	}
	_ = fx
}
