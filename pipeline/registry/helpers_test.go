package registry

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// testTime is the injected promotion time of every test record.
var testTime = time.Date(2026, 2, 4, 10, 0, 0, 0, time.UTC)

// newTestClient is a client with fast retries and a short lease.
func newTestClient(t testing.TB, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithFastBackoff(), WithLease(100*time.Millisecond, 5*time.Second)}
	c, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustDigest(t testing.TB, s string) name.Digest {
	t.Helper()
	d, err := name.NewDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustRepo(t testing.TB, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// onHost rewrites d (or a repo) to the same path on another host, e.g. to
// reach a registry through its proxy.
func onHost(t testing.TB, d name.Digest, host string) name.Digest {
	t.Helper()
	return mustDigest(t, host+"/"+d.RepositoryStr()+"@"+d.DigestStr())
}

// head is the digest a tag points at ("none" when absent), read straight
// from the registry.
func head(t testing.TB, ref string) string {
	t.Helper()
	d, ok := registrytest.Head(t, ref)
	if !ok {
		return ExpectNone
	}
	return d.DigestStr()
}

func rev(sha string) registrytest.ImageSpec {
	return registrytest.ImageSpec{Layers: 2, Labels: map[string]string{RevisionLabel: sha}}
}

// writes counts the requests that write (anything but GET and HEAD).
func writes(p *registrytest.FaultProxy) int64 {
	var n int64
	for m, c := range p.Stats().ByMethod {
		if m != http.MethodGet && m != http.MethodHead {
			n += c
		}
	}
	return n
}

func req(src name.Digest, to string, tags, floating []string, expect string) PromoteRequest {
	r, _ := name.NewRepository(to)
	return PromoteRequest{
		Source: src, To: r, Tags: tags, Floating: floating, Expect: expect,
		Record: PromotionRecord{Decision: DecisionPass, Revision: "abc", RunID: "42", Time: testTime},
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func mustTag(t testing.TB, s string) name.Tag {
	t.Helper()
	tg, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
