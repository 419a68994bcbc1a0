package retention

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// TestUntagWholeOnCancel: a run stopped while an untag writes its
// placeholder (distribution 2.8 has no tag DELETE) still deletes the
// placeholder: the tag is gone and nothing of the untag is left.
func TestUntagWholeOnCancel(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t, registrytest.InProcess())
	d := registrytest.PushImage(t, reg.Ref("acme/app:pr-1-abcdef0"), registrytest.ImageSpec{})
	registrytest.Tag(t, reg.Ref("acme/app:v1"), d)
	put := &registrytest.Rule{Method: http.MethodPut, Path: `/manifests/pr-1-abcdef0$`, Fault: registrytest.Latency, Delay: 300 * time.Millisecond}
	proxy := registrytest.NewFaultProxy(t, reg.Host(), 1, put)
	repo, _ := name.NewRepository(proxy.Host() + "/acme/app")
	b, err := NewOCI(repo, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for put.Injected() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	if err := b.Untag(ctx, "pr-1-abcdef0", mustHash(d.DigestStr())); err != nil {
		t.Fatalf("untag stopped half-way: %v", err)
	}
	if _, ok := registrytest.Head(t, reg.Ref("acme/app:pr-1-abcdef0")); ok {
		t.Error("the tag (or its placeholder) is still there")
	}
	if got, ok := registrytest.Head(t, reg.Ref("acme/app:v1")); !ok || got.DigestStr() != d.DigestStr() {
		t.Error("the image lost its other tag")
	}
}
