package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"dagger/slipway-tests/internal/dagger"
)

// imageNames are the two images of the cluster checks.
var imageNames = []string{"localnode", "rpcnode"}

// ImagesPromote promotes two images of one run together, candidate and baseline.
//
// A localnode and an rpcnode (the sample app built twice, each its own
// image and repository in the ephemeral registry) start together as
// services with HTTP health checks, beside a sidecar, and a matrix of two
// jobs in a runner built from a stage of rpcnode's Dockerfile reaches
// both. Each image and the stage are built once; the first promotion
// creates both floating tags; a candidate whose rpcnode never gets
// healthy is blocked and moves neither; a fixed pair moves both, each from
// its own baseline. test --ref NAME=REF tests the promoted pair by digest,
// test --baseline with localnode's ref alone runs none of the cells, and
// rollback moves both tags back to the baselines together (a re-run of it
// changes nothing).
//
// +check
// +cache="session"
func (t *SlipwayTests) ImagesPromote(ctx context.Context) error {
	s, err := t.newScenario(ctx, "images")
	if err != nil {
		return err
	}
	base, err := readImagesPromotion(ctx, s.slipwayConfig("baseline", s.imagesConfig("base", "base")).Promote())
	if err != nil {
		return fmt.Errorf("promoting the baseline pair: %w", err)
	}
	baselines, err := base.expectImages(s, "baseline", nil)
	if err != nil {
		return fmt.Errorf("baseline pair: %w", err)
	}
	if base.Candidate.Build.Images != 3 {
		return fmt.Errorf("baseline pair: %d images built before the cells, want 3 (one per image, and the runner stage)", base.Candidate.Build.Images)
	}
	broken, err := readImagesPromotion(ctx, s.slipwayConfig("broken", s.imagesConfig("fixed", "broken")).Promote(dagger.SlipwayPromoteOpts{NoFail: true}))
	if err != nil {
		return fmt.Errorf("promoting the pair with a broken rpcnode: %w", err)
	}
	if broken.Decision.Pass {
		return fmt.Errorf("a pair whose rpcnode never became healthy passed the gate")
	}
	for _, im := range broken.Images {
		if im.Published != "" {
			return fmt.Errorf("a blocked pair published %s", im.Published)
		}
	}
	cand, err := readImagesPromotion(ctx, s.slipwayConfig("candidate", s.imagesConfig("fixed", "fixed")).Promote())
	if err != nil {
		return fmt.Errorf("promoting the fixed pair: %w", err)
	}
	digests, err := cand.expectImages(s, "candidate", baselines)
	if err != nil {
		return fmt.Errorf("fixed pair: %w", err)
	}
	var refs []string
	for i, name := range imageNames {
		refs = append(refs, name+"="+repository+"/"+name+"@"+digests[i])
	}
	cells, err := s.slipwayConfig("retest", s.imagesConfig("base", "base")).Test(dagger.SlipwayTestOpts{Ref: refs}).Cells(ctx)
	if err != nil {
		return fmt.Errorf("test --ref %v: %w", refs, err)
	}
	for _, c := range cells {
		if status, err := c.Status(ctx); err != nil || status != "pass" {
			name, _ := c.Name(ctx)
			return fmt.Errorf("test --ref %v: cell %s %s (%v), want pass", refs, name, status, err)
		}
	}
	// A baseline of localnode alone (rpcnode as if new): every cell needs
	// rpcnode, so none runs, and nothing is built in its place.
	cells, err = s.slipwayConfig("retest", s.imagesConfig("base", "base")).Test(dagger.SlipwayTestOpts{Ref: refs[:1], Baseline: true}).Cells(ctx)
	if err != nil {
		return fmt.Errorf("test --baseline --ref %s: %w", refs[0], err)
	}
	if len(cells) != 0 {
		return fmt.Errorf("test --baseline --ref %s: %d cells, want none: each needs rpcnode, which has no baseline given", refs[0], len(cells))
	}
	return s.expectGroupRollback(ctx, digests, baselines)
}

// expectGroupRollback rolls the pair back together (rollback with no
// --repository): both floating tags go from the fixed pair (digests) back
// to the baselines, each with a record naming the group; the same
// rollback run again (its run id) changes nothing.
func (s scenario) expectGroupRollback(ctx context.Context, digests, baselines []string) error {
	m := s.slipwayConfig("rollback", s.imagesConfig("fixed", "fixed"))
	type result struct {
		Results []struct {
			Repository, From, To, Action string
			Done                         bool
		} `json:"results"`
	}
	for _, run := range []struct{ reason, action string }{{"bad pair", "moved"}, {"bad pair, re-run", "unchanged"}} {
		text, err := m.Rollback(dagger.SlipwayRollbackOpts{Tag: s.stable(), Reason: run.reason}).JSON(ctx)
		if err != nil {
			return fmt.Errorf("group rollback (%s): %w", run.reason, err)
		}
		var r result
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return fmt.Errorf("group rollback JSON: %w", err)
		}
		if len(r.Results) != len(imageNames) {
			return fmt.Errorf("group rollback (%s): %d results, want one per image:\n%s", run.reason, len(r.Results), text)
		}
		for i, x := range r.Results {
			from := digests[i]
			if run.action == "unchanged" {
				from = baselines[i]
			}
			if x.Repository != repository+"/"+imageNames[i] || x.From != from || x.To != baselines[i] || x.Action != run.action || x.Done != (run.action == "unchanged") {
				return fmt.Errorf("group rollback (%s) of %s: %s from %s to %s (done %v), want %s from %s to %s", run.reason, imageNames[i], x.Action, x.From, x.To, x.Done, run.action, from, baselines[i])
			}
		}
	}
	return nil
}

// imagesConfig is a slipway.yaml of two images of the sample app, built
// as the variants given (localnode from app.Dockerfile, which has no
// http-tests stage), started together as services (rpcnode after
// localnode, so bound to it) beside a sidecar, a matrix of two jobs in a
// runner (the http-tests stage of rpcnode's Dockerfile, built with
// rpcnode's build) that reaches both and writes a JUnit case per job.
func (s scenario) imagesConfig(localnode, rpcnode string) string {
	var b strings.Builder
	b.WriteString("images:\n")
	for i, name := range imageNames {
		fmt.Fprintf(&b, "  - name: %s\n    build:\n      dockerfile: %s\n      platforms: [%s]\n      args: {VARIANT: %s, BASE: %q}\n",
			name, []string{"app.Dockerfile", "Dockerfile"}[i], s.platform, []string{localnode, rpcnode}[i], s.base)
	}
	if s.registry != "" {
		fmt.Fprintf(&b, "ephemeral:\n  image: %q\n", s.registry)
	}
	script := `mkdir -p /out; l=$(wget -qO- http://localnode:8080/variant); r=$(wget -qO- http://rpcnode:8080/variant); ` +
		`p=$(wget -qO- http://cache:9000/ping); res=ok; [ -n "$l" ] && [ -n "$r" ] && [ "$p" = pong ] || res=fail; ` +
		`if [ $res = ok ]; then c='<testcase classname="cluster" name="reach"/>'; else c='<testcase classname="cluster" name="reach"><failure message="unreachable"/></testcase>'; fi; ` +
		`printf '<testsuites><testsuite name="cluster-%s" tests="1">%s</testsuite></testsuites>' "$JOB" "$c" >/out/cluster.xml; echo "$JOB: localnode $l rpcnode $r"; [ $res = ok ]`
	fmt.Fprintf(&b, `test:
  retries: 0
  matrix: {job: [sync, rpc]}
  suites:
    - name: cluster-${job}
      run: ["sh", "-c", %q]
      env: {JOB: "${job}"}
      reports: [/out/cluster.xml]
      runner: {build: {target: http-tests, image: rpcnode}}
      services:
        - name: cache
          ref: %q
          ports: [9000]
          args: ["sh", "-c", "mkdir -p /w && echo pong > /w/ping && exec httpd -f -p 9000 -h /w"]
        - name: localnode
          image: localnode
          ports: [8080]
          args: [/app/serve.sh]
          health: {http: /health}
          timeout: 20s
        - name: rpcnode
          image: rpcnode
          ports: [8080]
          args: [/app/serve.sh]
          env: {UPSTREAM: "http://localnode:8080"}
          health: {http: /health}
          timeout: 20s
`, script, s.base)
	fmt.Fprintf(&b, "gate:\n  baseline: %s\n", s.stable())
	fmt.Fprintf(&b, "tags:\n  immutable: [\"sha-{sha7}\"]\n  floating: [%s]\n", s.stable())
	b.WriteString("scan:\n  mode: \"off\"\n")
	return b.String()
}

// imagesPromotion is the JSON of a Promotion of several images.
type imagesPromotion struct {
	promotion
	Candidate struct {
		Build struct {
			Images int `json:"images"`
		} `json:"build"`
	} `json:"candidate"`
	Images []struct {
		Name       string          `json:"name"`
		Repository string          `json:"repository"`
		Baseline   string          `json:"baseline"`
		Published  string          `json:"published"`
		Registry   *registryResult `json:"registry"`
	} `json:"images"`
}

func readImagesPromotion(ctx context.Context, p *dagger.SlipwayPromotion) (*imagesPromotion, error) {
	return readPromotionAs[imagesPromotion](ctx, p)
}

// expectImages checks a passing promotion of both images: each published
// once into its own repository, tagged sha-… there, and its floating tag
// moved to it from its baseline (bases, nil for a first promotion). It
// returns their digests.
func (p *imagesPromotion) expectImages(s scenario, step string, bases []string) ([]string, error) {
	if !p.Decision.Pass {
		return nil, fmt.Errorf("the gate blocked: %+v", p.Decision.Reasons)
	}
	if len(p.Images) != len(imageNames) {
		return nil, fmt.Errorf("%d images in the promotion, want %d", len(p.Images), len(imageNames))
	}
	var out []string
	for i, im := range p.Images {
		repo := repository + "/" + imageNames[i]
		prefix := repo + ":slipway-publish@sha256:"
		if im.Name != imageNames[i] || im.Repository != repo || !strings.HasPrefix(im.Published, prefix) || im.Registry == nil {
			return nil, fmt.Errorf("image %d: %s in %s published %q, want %s in %s published %s<digest>", i, im.Name, im.Repository, im.Published, imageNames[i], repo, prefix)
		}
		digest := digestOf(im.Published)
		if bases != nil && digestOf(im.Baseline) != bases[i] {
			return nil, fmt.Errorf("%s: tested against %q, want its baseline %s", im.Name, im.Baseline, bases[i])
		}
		want := map[string]string{"sha-" + s.revision(step)[:7]: "immutable", s.stable(): "floating"}
		for _, tag := range im.Registry.Tags {
			kind, ok := want[tag.Tag]
			if !ok {
				continue
			}
			if tag.Kind != kind || digestOf(tag.To) != digest {
				return nil, fmt.Errorf("%s: %s tag %s at %q (%s), want %s at %s", im.Name, tag.Kind, tag.Tag, tag.To, tag.Action, kind, digest)
			}
			if kind == "floating" && bases != nil && digestOf(tag.From) != bases[i] {
				return nil, fmt.Errorf("%s: %s moved from %q, want from its baseline %s", im.Name, tag.Tag, tag.From, bases[i])
			}
			delete(want, tag.Tag)
		}
		if len(want) > 0 {
			return nil, fmt.Errorf("%s: the promotion wrote no tag %v", im.Name, want)
		}
		out = append(out, digest)
	}
	return out, nil
}
