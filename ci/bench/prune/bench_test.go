// Package prune benchmarks Slipway's retention planning against a naive
// per-tag loop (crane ls, then crane config per tag) on the same registry in
// the same run. It runs only with SLIPWAY_BENCH=1 (see run.sh).
package prune

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
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

	// BENCH_RTT_MS: hosted registries' round trips, added by the proxy to
	// every request, one measurement each (default "0,20": loopback, then
	// 20 ms). BENCH_JOBS: --jobs (default 8).
	jobs := envInt("BENCH_JOBS", 8)
	rtts := os.Getenv("BENCH_RTT_MS")
	if rtts == "" {
		rtts = "0,20"
	}
	for _, v := range strings.Split(rtts, ",") {
		ms, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || ms < 0 {
			t.Fatalf("BENCH_RTT_MS=%q: want milliseconds, comma-separated", rtts)
		}
		t.Run(fmt.Sprintf("rtt-%dms", ms), func(t *testing.T) { measure(t, ctx, reg.Host(), time.Duration(ms)*time.Millisecond, jobs) })
	}
}

// measure plans retention through a proxy adding rtt to every request,
// beside a minimal client and a naive crane loop over the same proxy.
func measure(t *testing.T, ctx context.Context, host string, rtt time.Duration, jobs int) {
	var rules []*registrytest.Rule
	if rtt > 0 {
		rules = append(rules, &registrytest.Rule{Fault: registrytest.Latency, Delay: rtt})
	}
	proxy := registrytest.NewFaultProxy(t, host, 1, rules...)
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

	// Slipway: facts (listing, one GET per tag, one config per digest, the
	// referrers API probe) + plan.
	proxy.ResetStats()
	start := time.Now()
	b, err := retention.NewOCI(prepo, retention.WithJobs(jobs))
	if err != nil {
		t.Fatal(err)
	}
	facts, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	factsTime := time.Since(start)
	p := retention.Evaluate(time.Now(), policy, facts, retention.Inputs{})
	slipTime := time.Since(start)
	slipReq := proxy.Stats().Requests
	tags := 0
	for _, m := range facts.Manifests {
		tags += len(m.Tags)
	}
	pages := (tags + 999) / 1000

	// The floor: a minimal client (net/http, `jobs` workers) sending the
	// same requests: the listing, a GET per tag, a config GET per digest.
	proxy.ResetStats()
	start = time.Now()
	minTags := minimalClient(t, ctx, prepo, jobs)
	minTime := time.Since(start)
	minReq := proxy.Stats().Requests

	// Naive: crane ls, then crane config per tag, in a loop (over the first
	// BENCH_NAIVE_TAGS tags, default 300; the rest extrapolated per tag).
	crane := os.Getenv("CRANE")
	if crane == "" {
		crane = "crane"
	}
	if _, err := exec.LookPath(crane); err != nil {
		t.Fatalf("crane not found (%v): go install github.com/google/go-containerregistry/cmd/crane@v0.22.0", err)
	}
	naiveN := envInt("BENCH_NAIVE_TAGS", 300)
	proxy.ResetStats()
	start = time.Now()
	out, err := exec.Command(crane, "ls", prepo.String()).Output()
	if err != nil {
		t.Fatalf("crane ls: %v", err)
	}
	naiveTags := strings.Fields(string(out))
	created := map[string]string{}
	for _, tag := range naiveTags[:min(naiveN, len(naiveTags))] {
		cfg, err := exec.Command(crane, "config", prepo.Tag(tag).String()).Output()
		if err != nil {
			t.Fatalf("crane config %s: %v", tag, err)
		}
		created[tag] = string(cfg[:min(len(cfg), 16)])
	}
	naiveTime := time.Since(start)
	naiveReq := proxy.Stats().Requests
	naiveAll := time.Duration(float64(naiveTime) * float64(len(naiveTags)) / float64(len(created)))

	bound := int64(1+pages+tags) + 2*int64(len(facts.Manifests)) + 2
	floor := time.Duration(slipReq) * rtt / time.Duration(jobs)
	t.Logf("tags %d, digests %d, plan: %d deletes, %d untags; round trip added %v, --jobs %d", tags, len(facts.Manifests), p.Summary.Delete, p.Summary.Untag, rtt, jobs)
	t.Logf("slipway:          %9s, %5d requests (reading %s, planning %s; bound: listing %d pages + %d tag GETs + ping + referrers probe, + 2 x %d digests = %d)",
		slipTime.Round(time.Millisecond), slipReq, factsTime.Round(time.Millisecond), (slipTime - factsTime).Round(time.Millisecond), pages, tags, len(facts.Manifests), bound)
	t.Logf("minimal client:   %9s, %5d requests (%d tags, %d workers)", minTime.Round(time.Millisecond), minReq, minTags, jobs)
	if rtt > 0 {
		t.Logf("floor:            %9s  (slipway's %d requests x %v / %d jobs); slipway / floor %.2f, slipway / minimal client %.2f",
			floor.Round(time.Millisecond), slipReq, rtt, jobs, slipTime.Seconds()/floor.Seconds(), slipTime.Seconds()/minTime.Seconds())
	}
	t.Logf("naive crane loop: %9s, %5d requests (%d of %d tags; all: ~%s)", naiveTime.Round(time.Millisecond), naiveReq, len(created), len(naiveTags), naiveAll.Round(time.Second))
	t.Logf("speed-up vs naive %.1fx", naiveAll.Seconds()/slipTime.Seconds())
	if slipReq > bound {
		t.Errorf("slipway sent %d requests, over the bound %d", slipReq, bound)
	}
	// The arithmetic floor leaves out the registry's own time (and, here,
	// the proxy's and the registry's share of the same cores): the minimal
	// client, measured beside, is the floor that can be met.
	if slipTime > minTime*12/10 {
		t.Errorf("slipway took %v, over 1.2x the minimal client's %v", slipTime, minTime)
	}
	if naiveAll < 5*slipTime {
		t.Errorf("slipway is only %.1fx faster than the naive loop, want ≥ 5x", naiveAll.Seconds()/slipTime.Seconds())
	}
}

// minimalClient lists repo's tags and GETs each tag's manifest and each
// distinct config with `jobs` workers, over plain net/http: the requests
// planning needs, without anything else. It returns the tags seen.
func minimalClient(t *testing.T, ctx context.Context, repo name.Repository, jobs int) int {
	t.Helper()
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: jobs}}
	get := func(path, accept string) ([]byte, http.Header, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+repo.RegistryStr()+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := cl.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return b, resp.Header, err
	}
	var tags []string
	next := fmt.Sprintf("/v2/%s/tags/list?n=1000", repo.RepositoryStr())
	for next != "" {
		b, h, err := get(next, "")
		if err != nil {
			t.Fatal(err)
		}
		var page struct{ Tags []string }
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		tags = append(tags, page.Tags...)
		next = ""
		if l := h.Get("Link"); l != "" {
			next = l[strings.Index(l, "<")+1 : strings.Index(l, ">")]
		}
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	g, gctx := errgroup.WithContext(ctx)
	_ = gctx
	g.SetLimit(jobs)
	for _, tag := range tags {
		g.Go(func() error {
			b, _, err := get(fmt.Sprintf("/v2/%s/manifests/%s", repo.RepositoryStr(), tag), "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.index.v1+json")
			if err != nil {
				return err
			}
			var m struct{ Config struct{ Digest string } }
			if err := json.Unmarshal(b, &m); err != nil {
				return err
			}
			mu.Lock()
			first := !seen[m.Config.Digest]
			seen[m.Config.Digest] = true
			mu.Unlock()
			if first && m.Config.Digest != "" {
				_, _, err = get(fmt.Sprintf("/v2/%s/blobs/%s", repo.RepositoryStr(), m.Config.Digest), "")
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return len(tags)
}
