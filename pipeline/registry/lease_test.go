package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// leaseFixture is a repository with stable on a baseline, and a candidate.
func leaseFixture(t *testing.T, c *Client) (reg *registrytest.Registry, r PromoteRequest) {
	reg = registrytest.New(t)
	base := registrytest.PushImage(t, reg.Ref("ci/app:base"), rev("b"))
	if _, err := c.Promote(ctxT(t), req(base, reg.Ref("prod/app"), nil, []string{"stable"}, ExpectNone)); err != nil {
		t.Fatal(err)
	}
	cand := registrytest.PushImage(t, reg.Ref("ci/app:cand"), rev("c"))
	return reg, req(cand, reg.Ref("prod/app"), nil, []string{"stable"}, base.DigestStr())
}

// holdLease writes another holder's lease on repo, valid for d.
func holdLease(t *testing.T, c *Client, r PromoteRequest, d time.Duration) *lease {
	s, err := c.session(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	l := &lease{s: s, repo: r.To, holder: "someone-else", owner: leaseOwner{host: "elsewhere", pid: 1, runID: "other job"}}
	if err := s.pusher.Upload(s.ctx, r.To, emptyLayer()); err != nil {
		t.Fatal(err)
	}
	if l.mine, err = l.write(time.Now().Add(d), false); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLease(t *testing.T) {
	t.Parallel()
	t.Run("released after use", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		reg, r := leaseFixture(t, c)
		if _, err := c.Promote(ctxT(t), r); err != nil {
			t.Fatal(err)
		}
		s, _ := c.session(ctxT(t))
		cur, err := (&lease{s: s, repo: r.To}).read()
		if err != nil || !cur.free(time.Now()) {
			t.Fatalf("lease after a promotion: %+v, %v", cur, err)
		}
		if reg.Real() && head(t, reg.Ref("prod/app:"+LeaseTag)) != ExpectNone {
			t.Fatal("distribution keeps the lease tag after release")
		}
	})
	t.Run("waits for the holder", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		_, r := leaseFixture(t, c)
		l := holdLease(t, c, r, time.Minute)
		time.AfterFunc(500*time.Millisecond, l.release)
		start := time.Now()
		if _, err := c.Promote(ctxT(t), r); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Fatalf("promoted after %v, while another held the lease for 500ms", d)
		}
	})
	t.Run("a crashed holder's lease expires", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		_, r := leaseFixture(t, c)
		holdLease(t, c, r, 700*time.Millisecond)
		start := time.Now()
		if _, err := c.Promote(ctxT(t), r); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 700*time.Millisecond {
			t.Fatalf("promoted after %v, before the lease expired", d)
		}
	})
	t.Run("gives up on a lease that outlives the wait", func(t *testing.T) {
		t.Parallel()
		reg, r := leaseFixture(t, newTestClient(t))
		c := newTestClient(t, WithLease(100*time.Millisecond, time.Second))
		holdLease(t, c, r, time.Hour)
		_, err := c.Promote(ctxT(t), r)
		if err == nil || !contains(err.Error(), "locked by elsewhere pid 1 (run other job)") {
			t.Fatalf("err = %v, want a lock error naming the holder", err)
		}
		if head(t, reg.Ref("prod/app:stable")) != r.Expect {
			t.Fatal("stable moved without the lease")
		}
	})
	t.Run("honours the context", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		_, r := leaseFixture(t, c)
		holdLease(t, c, r, time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if _, err := c.Promote(ctx, r); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
	})
}

func TestIsInternalTag(t *testing.T) {
	t.Parallel()
	h := zeroDigest[7:]
	for tag, want := range map[string]bool{
		LeaseTag: true, PublishTag: true, "sha256-" + h: true, "sha256-" + h + ".sig": true, "sha256-" + h + ".att": true,
		"stable": false, "sha256-abc": false, "sha256-" + h + "x": false, "sha-" + h: false,
	} {
		if got := IsInternalTag(tag); got != want {
			t.Errorf("IsInternalTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
