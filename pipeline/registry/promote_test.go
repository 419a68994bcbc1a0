package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

func TestPromote(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	p := registrytest.NewFaultProxy(t, reg.Host(), 1)
	c := newTestClient(t)
	ctx := ctxT(t)

	base := registrytest.PushImage(t, reg.Ref("ci/app:base"), rev("b0"))
	// The baseline is already promoted in the target repository.
	if _, err := c.Promote(ctx, req(base, reg.Ref("prod/app"), nil, []string{"stable"}, ExpectNone)); err != nil {
		t.Fatal(err)
	}

	cand := registrytest.PushImage(t, reg.Ref("ci/app:cand"), rev("c1"))
	src := onHost(t, cand, p.Host())
	to := p.Host() + "/prod/app"

	tests := []struct {
		name    string
		req     PromoteRequest
		wantErr error
		want    map[string]Action // tag -> action
		record  Action
		writes  bool
	}{
		{
			name:    "baseline moved refuses and writes nothing",
			req:     req(src, to, []string{"sha-c1"}, []string{"stable"}, zeroDigest),
			wantErr: ErrBaselineMoved,
		},
		{
			name: "dry run",
			req: func() PromoteRequest {
				r := req(src, to, []string{"sha-c1"}, []string{"stable"}, base.DigestStr())
				r.DryRun = true
				return r
			}(),
			want:   map[string]Action{"sha-c1": WouldCreate, "stable": WouldMove},
			record: WouldWrite,
		},
		{
			name:    "promotes",
			req:     req(src, to, []string{"sha-c1", "main-c1"}, []string{"stable", "latest"}, base.DigestStr()),
			wantErr: ErrBaselineMoved, // latest does not exist: its baseline is none, not base
		},
		{
			name:   "promotes with matching baselines",
			req:    req(src, to, []string{"sha-c1", "main-c1"}, []string{"stable"}, base.DigestStr()),
			want:   map[string]Action{"sha-c1": Created, "main-c1": Created, "stable": Moved},
			record: Created,
			writes: true,
		},
		{
			name:   "rerun is a no-op",
			req:    req(src, to, []string{"sha-c1", "main-c1"}, []string{"stable"}, base.DigestStr()),
			want:   map[string]Action{"sha-c1": Unchanged, "main-c1": Unchanged, "stable": Unchanged},
			record: Unchanged,
		},
		{
			name: "another run of the same commit records nothing new",
			req: func() PromoteRequest {
				r := req(src, to, []string{"sha-c1"}, []string{"stable"}, cand.DigestStr())
				r.Record.RunID, r.Record.Time = "43", testTime.Add(time.Hour)
				return r
			}(),
			want:   map[string]Action{"sha-c1": Unchanged, "stable": Unchanged},
			record: Unchanged,
		},
		{
			name:   "new floating tag from none",
			req:    req(src, to, nil, []string{"latest"}, ExpectNone),
			want:   map[string]Action{"latest": Moved},
			record: Created,
			writes: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := writes(p)
			stable := head(t, reg.Ref("prod/app:stable"))
			res, err := c.Promote(ctx, tt.req)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Promote: err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if head(t, reg.Ref("prod/app:stable")) != stable {
					t.Fatal("a refused promotion moved stable")
				}
				if n := writes(p) - before; n != 0 {
					t.Fatalf("a refused promotion wrote %d requests", n)
				}
				return
			}
			for _, tr := range res.Tags {
				if want, ok := tt.want[tr.Tag]; ok && tr.Action != want {
					t.Errorf("tag %s: %s, want %s (%v)", tr.Tag, tr.Action, want, res.Lines())
				}
			}
			if res.RecordAct != tt.record {
				t.Errorf("record: %s, want %s", res.RecordAct, tt.record)
			}
			if n := writes(p) - before; (n > 0) != tt.writes {
				t.Errorf("%d write requests, want writes=%v (%v)", n, tt.writes, res.Lines())
			}
		})
	}
	if got := head(t, reg.Ref("prod/app:stable")); got != cand.DigestStr() {
		t.Fatalf("stable = %s, want %s", got, cand.DigestStr())
	}
	recs, err := c.ReadPromotionRecords(ctx, mustDigest(t, reg.Ref("prod/app@"+cand.DigestStr())))
	if err != nil || len(recs) != 2 {
		t.Fatalf("records = %+v, %v", recs, err)
	}
	r := recs[slices.IndexFunc(recs, func(r PromotionRecord) bool { return len(r.Tags) > 0 })]
	if r.Decision != DecisionPass || r.Baseline != base.DigestStr() || r.Revision != "abc" || r.RunID != "42" ||
		!slices.Equal(r.Tags, []string{"sha-c1", "main-c1"}) || !r.Time.Equal(testTime) {
		t.Fatalf("record = %+v", r)
	}
	if at, ok := LatestPromotion(recs, "latest"); !ok || !at.Equal(testTime) {
		t.Fatalf("LatestPromotion(latest) = %v %v", at, ok)
	}
	if _, err := c.Verify(ctx, reg.Ref("prod/app:stable"), VerifyOptions{Revision: "c1", Full: true, RequirePromotion: true}); err != nil {
		t.Fatalf("Verify after promotion: %v", err)
	}
}

const zeroDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

// An index travels whole with its children, the referrers of the index and
// of a child, and cosign tags; a signature the target already has is kept.
func TestPromoteIndexWithReferrers(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	c := newTestClient(t)
	ctx := ctxT(t)
	idx := registrytest.PushIndex(t, reg.Ref("ci/app:multi"), rev("i"), rev("i"))
	im, err := remote.Index(idx)
	if err != nil {
		t.Fatal(err)
	}
	man, _ := im.IndexManifest()
	child := idx.Context().Digest(man.Manifests[1].Digest.String())
	registrytest.PushReferrer(t, idx, "application/vnd.test.sbom")
	registrytest.PushReferrer(t, child, "application/vnd.test.provenance")
	registrytest.PushCosignSignature(t, idx)
	attTag := strings.Replace(idx.DigestStr(), ":", "-", 1) + ".att"
	registrytest.PushImage(t, reg.Ref("ci/app:"+attTag), registrytest.ImageSpec{})
	// The target has its own attestation already.
	theirs := registrytest.PushImage(t, reg.Ref("prod/app:"+attTag), registrytest.ImageSpec{})

	p := registrytest.NewFaultProxy(t, reg.Host(), 1)
	r := req(onHost(t, idx, p.Host()), p.Host()+"/prod/app", []string{"v1"}, []string{"stable"}, ExpectNone)
	res, err := c.Promote(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 2 || res.Referrers[0].Action != Copied || res.Referrers[1].Action != Copied {
		t.Fatalf("referrers: %+v", res.Referrers)
	}
	lines := strings.Join(res.Lines(), "\n")
	for _, want := range []string{"signature tag " + strings.Replace(idx.DigestStr(), ":", "-", 1) + ".sig: created", "signature tag " + attTag + ": kept"} {
		if !contains(lines, want) {
			t.Fatalf("result lacks %q:\n%s", want, lines)
		}
	}
	if head(t, reg.Ref("prod/app:"+attTag)) != theirs.DigestStr() {
		t.Fatal("the target's own attestation tag was overwritten")
	}
	if _, err := c.Verify(ctx, reg.Ref("prod/app:stable"), VerifyOptions{Full: true, Revision: "i", RequirePromotion: true}); err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{idx.DigestStr(), child.DigestStr()} {
		refs, err := remote.Referrers(mustDigest(t, reg.Ref("prod/app@"+subject)))
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := refs.IndexManifest(); len(m.Manifests) == 0 {
			t.Fatalf("no referrers of %s in the target", subject)
		}
	}
	before := writes(p)
	if _, err := c.Promote(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n := writes(p) - before; n != 0 {
		t.Fatalf("rerun wrote %d requests", n)
	}
}

// Promoting within one repository only tags.
func TestPromoteSameRepository(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	c := newTestClient(t)
	d := registrytest.PushImage(t, reg.Ref("app:build-1"), rev("s"))
	registrytest.PushReferrer(t, d, "application/vnd.test.sbom")
	res, err := c.Promote(ctxT(t), req(d, reg.Ref("app"), []string{"v1"}, []string{"stable"}, ExpectNone))
	if err != nil {
		t.Fatal(err)
	}
	if res.Copy != Unchanged || len(res.Referrers) != 0 || head(t, reg.Ref("app:stable")) != d.DigestStr() {
		t.Fatalf("result: %v", res.Lines())
	}
}

// Within one registry an image's blobs are copied all at once (each is a
// HEAD and a mount, no bytes); WithJobs bounds them like every transfer.
func TestCopyBlobsInFlight(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	src := registrytest.PushImage(t, reg.Ref("ci/app:c"), registrytest.ImageSpec{Layers: 5}) // 6 blobs
	empty := descriptorOf(emptyJSON, emptyMediaType).Digest.String()                         // the record's
	tests := []struct {
		name string
		opts []Option
		want int
	}{
		{"default", nil, 6},
		{"jobs-1", []Option{WithJobs(1)}, 1},
		{"jobs-4", []Option{WithJobs(4)}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Every blob HEAD is held, so those sent together overlap.
			p := registrytest.NewFaultProxy(t, reg.Host(), 1, &registrytest.Rule{Method: "HEAD", Path: "/blobs/", Fault: registrytest.Latency, Delay: 100 * time.Millisecond})
			c := newTestClient(t, tt.opts...)
			if _, err := c.Promote(ctxT(t), req(onHost(t, src, p.Host()), p.Host()+"/prod/"+tt.name, []string{"v1"}, nil, "")); err != nil {
				t.Fatal(err)
			}
			var heads []registrytest.Request
			for _, r := range p.Log() {
				// The target's (the source's are read before the copy).
				if r.Method == "HEAD" && strings.Contains(r.Path, "/prod/") && strings.Contains(r.Path, "/blobs/") && !strings.HasSuffix(r.Path, empty) {
					heads = append(heads, r)
				}
			}
			if len(heads) != 6 {
				t.Fatalf("%d blob HEADs, want 6", len(heads))
			}
			peak := 0
			for _, a := range heads {
				n := 0
				for _, b := range heads {
					if !b.Start.After(a.Start) && b.Time.After(a.Start) {
						n++
					}
				}
				peak = max(peak, n)
			}
			if peak != tt.want {
				t.Errorf("%d blobs in flight at most, want %d", peak, tt.want)
			}
		})
	}
}

// Every referrer arrives, however many share a subject (a registry without
// the referrers API keeps them in one fallback index per subject), and so
// do referrers of referrers (a signature on an SBOM).
func TestPromoteManyReferrers(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	c := newTestClient(t)
	ctx := ctxT(t)
	for round := range 5 {
		d := registrytest.PushImage(t, reg.Ref(fmt.Sprintf("ci/app:r%d", round)), rev("m"))
		var sbom name.Digest
		for i, at := range []string{"sbom", "provenance", "vuln", "sig", "vex"} {
			r := registrytest.PushReferrer(t, d, "application/vnd.test."+at)
			if i == 0 {
				sbom = r
			}
		}
		sig := registrytest.PushReferrer(t, sbom, "application/vnd.test.sbom-sig")
		to := reg.Ref(fmt.Sprintf("prod/many%d", round))
		p := registrytest.NewFaultProxy(t, reg.Host(), 1)
		r := req(onHost(t, d, p.Host()), p.Host()+fmt.Sprintf("/prod/many%d", round), []string{"v1"}, nil, "")
		res, err := c.Promote(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Referrers) != 6 || !slices.ContainsFunc(res.Referrers, func(rr ReferrerResult) bool {
			return rr.Digest == sig.DigestStr() && rr.Subject == sbom.DigestStr() && rr.Action == Copied
		}) {
			t.Fatalf("round %d: referrers %+v", round, res.Referrers)
		}
		for subject, want := range map[string]int{d.DigestStr(): 6, sbom.DigestStr(): 1} { // 5 and the record; the signature
			refs, err := remote.Referrers(mustDigest(t, to+"@"+subject))
			if err != nil {
				t.Fatal(err)
			}
			if m, _ := refs.IndexManifest(); len(m.Manifests) != want {
				t.Fatalf("round %d: %d referrers of %s in the target, want %d (%v)", round, len(m.Manifests), subject, want, res.Lines())
			}
		}
		if _, err := remote.Head(mustDigest(t, to+"@"+sig.DigestStr())); err != nil {
			t.Fatalf("round %d: the SBOM's signature was not copied: %v", round, err)
		}
		before := writes(p)
		if _, err := c.Promote(ctx, r); err != nil {
			t.Fatal(err)
		}
		if n := writes(p) - before; n != 0 {
			t.Fatalf("round %d: rerun wrote %d requests", round, n)
		}
	}
}

// TestLinesSameRepository: an image published into the target repository
// (under the staging tag) is "published", not "unchanged from" itself.
func TestLinesSameRepository(t *testing.T) {
	t.Parallel()
	d := "sha256:" + strings.Repeat("ab", 32)
	for _, tt := range []struct {
		res  PromoteResult
		want string
	}{
		{PromoteResult{Source: "r.io/acme/app@" + d, Target: "r.io/acme/app@" + d, Copy: Unchanged}, "published r.io/acme/app@" + d},
		{PromoteResult{Source: "r.io/ci/app@" + d, Target: "r.io/acme/app@" + d, Copy: Copied}, "image r.io/acme/app@" + d + ": copied from r.io/ci/app@" + d},
		{PromoteResult{Source: "r.io/ci/app@" + d, Target: "r.io/acme/app@" + d, Copy: Unchanged}, "image r.io/acme/app@" + d + ": unchanged from r.io/ci/app@" + d},
	} {
		if got := tt.res.Lines()[0]; got != tt.want {
			t.Errorf("Lines()[0] = %q, want %q", got, tt.want)
		}
	}
}
