package registry

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	rt "github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// Faults the client must ride out: each burst is shorter than the five
// attempts of WithFastBackoff.
var transientFaults = []struct {
	name  string
	rules []*rt.Rule
}{
	// (Rules on PUT and POST hit promotions only.)
	{"503 burst on every method", []*rt.Rule{{Fault: rt.Status, First: 3}}},
	{"500 burst on manifest HEAD", []*rt.Rule{{Method: http.MethodHead, Path: `/manifests/`, Fault: rt.Status, Status: 500, First: 4}}},
	{"502 burst on manifest GET", []*rt.Rule{{Method: http.MethodGet, Path: `/manifests/`, Fault: rt.Status, Status: 502, First: 4}}},
	{"503 burst on blob GET", []*rt.Rule{{Method: http.MethodGet, Path: `/blobs/sha256:`, Fault: rt.Status, First: 4}}},
	{"504 burst on writes", []*rt.Rule{{Method: http.MethodPut, Fault: rt.Status, Status: 504, First: 4}, {Method: http.MethodPost, Fault: rt.Status, Status: 504, First: 4}}},
	{"429 with Retry-After", []*rt.Rule{{Fault: rt.TooManyRequests, First: 1, RetryAfter: time.Second}}},
	{"resets on HEAD", []*rt.Rule{{Method: http.MethodHead, Fault: rt.Reset, First: 3}}},
	{"resets on GET", []*rt.Rule{{Method: http.MethodGet, Fault: rt.Reset, First: 3}}},
	{"resets on PUT", []*rt.Rule{{Method: http.MethodPut, Fault: rt.Reset, First: 3}}},
	{"truncated manifests", []*rt.Rule{{Method: http.MethodGet, Path: `/manifests/`, Fault: rt.TruncateBody, First: 3}}},
	{"truncated blobs", []*rt.Rule{{Method: http.MethodGet, Path: `/blobs/sha256:`, Fault: rt.TruncateBody, First: 3}}},
	// Distribution rewrites a blob's link when another writer puts the
	// same blob, and refuses a manifest that reads it then.
	{"blob link race on manifest PUT", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/`, Fault: rt.Status, Status: 400, Code: "MANIFEST_BLOB_UNKNOWN", First: 3}}},
	{"latency", []*rt.Rule{{Fault: rt.Latency, Delay: 5 * time.Millisecond, Jitter: 20 * time.Millisecond}}},
	{"seeded 10% 503 everywhere", []*rt.Rule{{Fault: rt.Status, Prob: 0.1}}},
}

// Faults that do not clear, each with the words its error must contain.
var persistentFaults = []struct {
	name  string
	rules []*rt.Rule
	says  string
}{
	{"503 on every request", []*rt.Rule{{Fault: rt.Status}}, "503"},
	{"resets on every request", []*rt.Rule{{Fault: rt.Reset}}, "EOF"},
	{"manifest HEAD 500", []*rt.Rule{{Method: http.MethodHead, Path: `/manifests/`, Fault: rt.Status, Status: 500}}, "500"},
	{"manifest GET truncated", []*rt.Rule{{Method: http.MethodGet, Path: `/manifests/sha256:`, Fault: rt.TruncateBody}}, "EOF"},
}

func TestFaultsResolveAndVerify(t *testing.T) {
	t.Parallel()
	reg := rt.New(t)
	ctx := ctxT(t)
	// A layer over the transport's 4 MiB buffer, so blob streams are cut
	// mid-read too.
	d := rt.PushImage(t, reg.Ref("app:v1"), rt.ImageSpec{Layers: 3, LayerSize: 5 << 20, Raw: true, Labels: map[string]string{RevisionLabel: "abc"}})
	for i, tt := range transientFaults {
		t.Run("transient/"+tt.name, func(t *testing.T) {
			t.Parallel()
			p := rt.NewFaultProxy(t, reg.Host(), int64(i), tt.rules...)
			c := newTestClient(t)
			start := time.Now()
			got, err := c.Resolve(ctx, p.Host()+"/app:v1")
			if err != nil || got.DigestStr() != d.DigestStr() {
				t.Fatalf("Resolve = %v, %v", got, err)
			}
			if _, err := c.Verify(ctx, p.Host()+"/app:v1", VerifyOptions{Full: true, Revision: "abc"}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.rules[0].Fault == rt.TooManyRequests && time.Since(start) < time.Second {
				t.Fatalf("Retry-After: 1 not honoured: done in %v", time.Since(start))
			}
			if m := tt.rules[0].Method; p.Stats().Injected == 0 && m != http.MethodPut && m != http.MethodPost {
				t.Fatal("no fault was injected")
			}
		})
	}
	for i, tt := range persistentFaults {
		t.Run("persistent/"+tt.name, func(t *testing.T) {
			t.Parallel()
			p := rt.NewFaultProxy(t, reg.Host(), int64(i), tt.rules...)
			c := newTestClient(t)
			if tt.rules[0].Method != http.MethodGet {
				_, err := c.Resolve(ctx, p.Host()+"/app:v1")
				if err == nil || !contains(err.Error(), tt.says) || !contains(err.Error(), "app:v1") {
					t.Fatalf("Resolve: %v, want an error naming the ref and %q", err, tt.says)
				}
			}
			_, err := c.Verify(ctx, p.Host()+"/app:v1", VerifyOptions{Full: true})
			if err == nil || !contains(err.Error(), tt.says) {
				t.Fatalf("Verify: %v, want an error with %q", err, tt.says)
			}
		})
	}
	// Damage in transit is never taken for the real thing.
	for _, f := range []rt.Fault{rt.TruncateBody, rt.CorruptBody} {
		for _, path := range []string{`/blobs/sha256:`, `/manifests/sha256:`} {
			t.Run(fmt.Sprintf("always %v %s", f, path), func(t *testing.T) {
				t.Parallel()
				p := rt.NewFaultProxy(t, reg.Host(), 9, &rt.Rule{Method: http.MethodGet, Path: path, Fault: f})
				c := newTestClient(t)
				_, err := c.Verify(ctx, p.Host()+"/app:v1", VerifyOptions{Full: true})
				if err == nil {
					t.Fatal("Verify passed a damaged stream")
				}
				if f == rt.CorruptBody && !errors.Is(err, ErrVerifyMismatch) {
					t.Fatalf("corrupted content: %v, want ErrVerifyMismatch", err)
				}
			})
		}
	}
}

// promoteFixture is a target repository whose floating tags stable and
// latest point at a promoted baseline, and a candidate to promote over it.
type promoteFixture struct {
	base, cand string // digests
	repo       string // path in the registry, e.g. "prod/case3"
}

func newPromoteFixture(t *testing.T, reg *rt.Registry, c *Client, repo string) promoteFixture {
	t.Helper()
	base := rt.PushImage(t, reg.Ref("ci/"+repo+":base"), rev("b"))
	if _, err := c.Promote(ctxT(t), req(base, reg.Ref(repo), nil, []string{"stable", "latest"}, ExpectNone)); err != nil {
		t.Fatal(err)
	}
	cand := rt.PushImage(t, reg.Ref("ci/"+repo+":cand"), registrytest3Layers("c"))
	rt.PushReferrer(t, cand, "application/vnd.test.sbom")
	rt.PushCosignSignature(t, cand)
	return promoteFixture{base: base.DigestStr(), cand: cand.DigestStr(), repo: repo}
}

func registrytest3Layers(sha string) rt.ImageSpec {
	return rt.ImageSpec{Layers: 3, LayerSize: 2048, Labels: map[string]string{RevisionLabel: sha}}
}

func TestFaultsPromote(t *testing.T) {
	t.Parallel()
	reg := rt.New(t)
	direct := newTestClient(t)
	n := 0
	next := func() string { n++; return fmt.Sprintf("prod/case%d", n) }

	run := func(t *testing.T, p *rt.FaultProxy, f promoteFixture) (*PromoteResult, error) {
		c := newTestClient(t)
		src := mustDigest(t, p.Host()+"/ci/"+f.repo+"@"+f.cand)
		r := req(src, p.Host()+"/"+f.repo, []string{"sha-c", "main-c"}, []string{"stable", "latest"}, f.base)
		return c.Promote(ctxT(t), r)
	}
	for i, tt := range transientFaults {
		f := newPromoteFixture(t, reg, direct, next())
		t.Run("transient/"+tt.name, func(t *testing.T) {
			t.Parallel()
			p := rt.NewFaultProxy(t, reg.Host(), int64(i), tt.rules...)
			res, err := run(t, p, f)
			if err != nil {
				t.Fatalf("Promote: %v", err)
			}
			for _, tag := range []string{"sha-c", "main-c", "stable", "latest"} {
				if got := head(t, reg.Ref(f.repo+":"+tag)); got != f.cand {
					t.Fatalf("%s = %s, want %s (%v)", tag, got, f.cand, res.Lines())
				}
			}
			// (A promotion within one registry reads no blob: they are mounted.)
			if p.Stats().Injected == 0 && tt.rules[0].Path != `/blobs/sha256:` {
				t.Fatal("no fault was injected")
			}
			// Everything arrived intact, referrers included.
			if _, err := direct.Verify(ctxT(t), reg.Ref(f.repo+":stable"), VerifyOptions{Full: true, Revision: "c", RequirePromotion: true}); err != nil {
				t.Fatal(err)
			}
			refs, err := remote.Referrers(mustDigest(t, reg.Ref(f.repo+"@"+f.cand)))
			if err != nil {
				t.Fatal(err)
			}
			if im, _ := refs.IndexManifest(); len(im.Manifests) != 2 { // the SBOM and the record
				t.Fatalf("referrers in target: %d, want 2", len(im.Manifests))
			}
			// And a rerun through the same faults changes nothing.
			before := writes(p)
			if _, err := run(t, p, f); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if w := writes(p) - before; w != 0 {
				t.Fatalf("rerun wrote %d requests", w)
			}
		})
	}

	persistent := []struct {
		name  string
		rules []*rt.Rule
		says  string
	}{
		{"blob uploads fail", []*rt.Rule{{Method: http.MethodPost, Path: `/blobs/uploads/`, Fault: rt.Status, Status: 500}}, "copying"},
		{"manifest copy fails", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/sha256:`, Fault: rt.Status}}, "copying"},
		{"referrer copy fails", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/sha256-[0-9a-f]{64}$`, Fault: rt.Status}}, "referrer"},
		{"signature copy fails", []*rt.Rule{{Method: http.MethodPut, Path: `\.sig$`, Fault: rt.Status}}, ".sig"},
		{"immutable tag fails", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/main-c$`, Fault: rt.Status}}, "tagging"},
		{"lease fails", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/slipway-lease$`, Fault: rt.Reset}}, "lease"},
		{"first floating tag fails", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/stable$`, Fault: rt.Status}}, "moving floating tag"},
		{"second floating tag fails", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/latest$`, Fault: rt.Reset}}, "moving floating tag"},
		{"registry gone", []*rt.Rule{{Fault: rt.Reset}}, "EOF"},
		{"blobs never found", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/`, Fault: rt.Status, Status: 400, Code: "MANIFEST_BLOB_UNKNOWN"}}, "MANIFEST_BLOB_UNKNOWN"},
		{"tag reads fail", []*rt.Rule{{Method: http.MethodHead, Path: `/manifests/(stable|latest)$`, Fault: rt.Status, Status: 502}}, "502"},
	}
	for i, tt := range persistent {
		f := newPromoteFixture(t, reg, direct, next())
		t.Run("persistent/"+tt.name, func(t *testing.T) {
			t.Parallel()
			p := rt.NewFaultProxy(t, reg.Host(), int64(i), tt.rules...)
			res, err := run(t, p, f)
			if err == nil || !contains(err.Error(), tt.says) {
				t.Fatalf("Promote: %v, want an error with %q", err, tt.says)
			}
			for _, s := range []error{ErrBaselineMoved, ErrTagExists, ErrVerifyMismatch, ErrInvalidRequest} {
				if errors.Is(err, s) {
					t.Fatalf("an infrastructure failure reported as %v: %v", s, err)
				}
			}
			for _, tag := range []string{"stable", "latest"} {
				if got := head(t, reg.Ref(f.repo+":"+tag)); got != f.base {
					t.Fatalf("%s moved to %s after a failure (%v)", tag, got, res.Lines())
				}
			}
			if tt.name == "second floating tag fails" {
				if !contains(fmt.Sprint(res.Lines()), "floating tag stable: rolled back") {
					t.Fatalf("result does not show the rollback: %v", res.Lines())
				}
			}
			// Once the registry is healthy, the same promotion completes.
			if err := p.SetRules(); err != nil {
				t.Fatal(err)
			}
			if _, err := run(t, p, f); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
			if got := head(t, reg.Ref(f.repo+":stable")); got != f.cand {
				t.Fatalf("stable = %s after recovery, want %s", got, f.cand)
			}
		})
	}
}
