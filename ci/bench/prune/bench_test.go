// Package prune benchmarks Slipway's retention planning against a naive
// per-tag loop (crane ls, then crane config per tag) on the same registry in
// the same run. It runs only with SLIPWAY_BENCH=1 (see run.sh).
package prune

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
	"github.com/slipway-ci/slipway/pipeline/retention"
)

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestPruneBench(t *testing.T) {
	if os.Getenv("SLIPWAY_BENCH") != "1" {
		t.Skip("set SLIPWAY_BENCH=1 (ci/bench/prune/run.sh)")
	}
	digests, perDigest := envInt("BENCH_DIGESTS", 1000), envInt("BENCH_TAGS_PER_DIGEST", 5)
	reg := registrytest.New(t)
	t.Logf("registry: %s (real docker-registry: %v)", reg.Host(), reg.Real())
	repo, _ := name.NewRepository(reg.Host() + "/bench/app")
	ctx := context.Background()

	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range digests {
		g.Go(func() error {
			age := time.Duration(i%60) * 24 * time.Hour
			img := registrytest.NewImage(t, registrytest.ImageSpec{Raw: true, LayerSize: 32,
				Labels: map[string]string{retention.CreatedLabel: time.Now().Add(-age).UTC().Format(time.RFC3339)}})
			first := repo.Tag(fmt.Sprintf("sha-%07x", i))
			if err := remote.Write(first, img, remote.WithContext(gctx)); err != nil {
				return err
			}
			desc, err := remote.Get(first, remote.WithContext(gctx))
			if err != nil {
				return err
			}
			for j := 1; j < perDigest; j++ {
				tag := []string{"pr-%d-abcdef0", "%d", "feature-%d-abcdef0", "nightly-%d"}[(j-1)%4]
				tag = fmt.Sprintf(tag, i*10+j)
				if err := remote.Tag(repo.Tag(tag), desc, remote.WithContext(gctx)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("populated %d tags over %d digests in %s", digests*perDigest, digests, time.Since(start).Round(time.Second))

	proxy := registrytest.NewFaultProxy(t, reg.Host(), 1)
	prepo, _ := name.NewRepository(proxy.Host() + "/bench/app")
	policy, err := retention.NewPolicy(config.Retention{
		MinAge: config.Duration(48 * time.Hour),
		Rules: []config.Rule{
			{Name: "pull-requests", Class: "pr", OlderThan: config.Duration(24 * time.Hour)},
			{Name: "commits", Class: "sha", OlderThan: config.Duration(30 * 24 * time.Hour), Keep: 30},
			{Name: "branches", Match: `^feature-`, OlderThan: config.Duration(7 * 24 * time.Hour)},
			{Name: "run-ids", Match: `^\d+$`, OlderThan: config.Duration(14 * 24 * time.Hour)},
		},
		Untagged: config.Untagged{OlderThan: config.Duration(24 * time.Hour)},
	}, []string{"stable"})
	if err != nil {
		t.Fatal(err)
	}

	// Slipway: facts (listing, one GET per tag, one config per digest) + plan.
	proxy.ResetStats()
	start = time.Now()
	b, err := retention.NewOCI(prepo, retention.WithJobs(8))
	if err != nil {
		t.Fatal(err)
	}
	facts, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := retention.Evaluate(time.Now(), policy, facts, retention.Inputs{})
	slipTime := time.Since(start)
	slipReq := proxy.Stats().Requests
	tags := 0
	for _, m := range facts.Manifests {
		tags += len(m.Tags)
	}
	pages := (tags + 999) / 1000

	// Naive: crane ls, then crane config per tag, in a loop.
	crane := os.Getenv("CRANE")
	if crane == "" {
		crane = "crane"
	}
	if _, err := exec.LookPath(crane); err != nil {
		t.Fatalf("crane not found (%v): go install github.com/google/go-containerregistry/cmd/crane@v0.22.0", err)
	}
	proxy.ResetStats()
	start = time.Now()
	out, err := exec.Command(crane, "ls", prepo.String()).Output()
	if err != nil {
		t.Fatalf("crane ls: %v", err)
	}
	naiveTags := strings.Fields(string(out))
	created := map[string]string{}
	for _, tag := range naiveTags {
		cfg, err := exec.Command(crane, "config", prepo.Tag(tag).String()).Output()
		if err != nil {
			t.Fatalf("crane config %s: %v", tag, err)
		}
		created[tag] = string(cfg[:min(len(cfg), 16)])
	}
	naiveTime := time.Since(start)
	naiveReq := proxy.Stats().Requests

	bound := int64(1+pages+tags) + 2*int64(len(facts.Manifests))
	t.Logf("tags %d, digests %d, plan: %d deletes, %d untags", tags, len(facts.Manifests), p.Summary.Delete, p.Summary.Untag)
	t.Logf("slipway: %s, %d requests (bound: listing %d pages + %d tag GETs + ping, + 2 x %d digests = %d)",
		slipTime.Round(time.Millisecond), slipReq, pages, tags, len(facts.Manifests), bound)
	t.Logf("naive crane loop: %s, %d requests (%d tags)", naiveTime.Round(time.Millisecond), naiveReq, len(naiveTags))
	t.Logf("speed-up %.1fx, request ratio %.1fx", naiveTime.Seconds()/slipTime.Seconds(), float64(naiveReq)/float64(slipReq))
	if slipReq > bound {
		t.Errorf("slipway sent %d requests, over the bound %d", slipReq, bound)
	}
	if naiveTime < 5*slipTime {
		t.Errorf("slipway is only %.1fx faster, want ≥ 5x", naiveTime.Seconds()/slipTime.Seconds())
	}
}
