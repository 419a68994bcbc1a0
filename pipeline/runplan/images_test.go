package runplan

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
)

func twoImages(repo string) *config.Config {
	cfg := config.Default()
	cfg.Images = []config.Image{config.DefaultImage(), config.DefaultImage()}
	cfg.Images[0].Name, cfg.Images[1].Name = "localnode", "rpcnode"
	if repo != "" {
		cfg.Images[0].Image, cfg.Images[1].Image = repo+"/localnode", repo+"/rpcnode"
	}
	return &cfg
}

// TestPlanImages: each image has its repository and baseline (in the
// ephemeral registry, its own repository under localhost:5000/slipway); a
// run of one image keeps localhost:5000/slipway; the smoke check runs per
// image.
func TestPlanImages(t *testing.T) {
	t.Parallel()
	one := config.Default()
	for _, tt := range []struct {
		name      string
		cfg       *config.Config
		repos     []string
		ephemeral bool
		smoke     []string
	}{
		{"one image, ephemeral", &one, []string{EphemeralRepository}, true, []string{"smoke"}},
		{"two images, ephemeral", twoImages(""), []string{EphemeralRepository + "/localnode", EphemeralRepository + "/rpcnode"}, true, []string{"smoke-localnode", "smoke-rpcnode"}},
		{"two images, ghcr.io", twoImages("ghcr.io/acme"), []string{"ghcr.io/acme/localnode", "ghcr.io/acme/rpcnode"}, false, []string{"smoke-localnode", "smoke-rpcnode"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg, gitctx.Context{Revision: rev}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			var repos, bases, cells, images []string
			for _, im := range p.Images {
				repos, bases = append(repos, im.Repository), append(bases, im.Baseline)
			}
			for _, c := range p.Cells {
				cells, images = append(cells, c.ID), append(images, c.Image)
			}
			if !slices.Equal(repos, tt.repos) || p.Repository != tt.repos[0] || p.Ephemeral != tt.ephemeral {
				t.Errorf("repositories %v (plan %s, ephemeral %v), want %v", repos, p.Repository, p.Ephemeral, tt.repos)
			}
			for i, b := range bases {
				if b != tt.repos[i]+":stable" {
					t.Errorf("baseline %s, want %s:stable", b, tt.repos[i])
				}
			}
			if !slices.Equal(cells, tt.smoke) {
				t.Errorf("cells %v, want %v", cells, tt.smoke)
			}
			if len(tt.cfg.Images) > 0 && !slices.Equal(images, p.ImageNames()) {
				t.Errorf("smoke cells run %v, want each image", images)
			}
			ref, err := p.PublishRefOf(p.Images[len(p.Images)-1])
			if err != nil || ref != tt.repos[len(tt.repos)-1]+":slipway-publish" {
				t.Errorf("publish ref %q %v", ref, err)
			}
		})
	}
}

func TestImageRefs(t *testing.T) {
	t.Parallel()
	d := func(c string) string { return "ghcr.io/acme/x@sha256:" + strings.Repeat(c, 64) }
	one, err := New(&config.Config{Gate: config.Default().Gate, Build: config.Default().Build}, gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	two, err := New(twoImages("ghcr.io/acme"), gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		p       *Plan
		refs    []string
		want    []string
		wantErr string
	}{
		{"none: build all", two, nil, []string{"", ""}, ""},
		{"a bare ref is the one image", one, []string{d("a")}, []string{d("a")}, ""},
		{"app=REF is the one image", one, []string{"app=" + d("a")}, []string{d("a")}, ""},
		{"one per image", two, []string{"rpcnode=" + d("b"), "localnode=" + d("a")}, []string{d("a"), d("b")}, ""},
		{"one of two: the other is built", two, []string{"rpcnode=" + d("b")}, []string{"", d("b")}, ""},
		{"a bare ref with two images", two, []string{d("a")}, nil, "this run has 2 images (localnode, rpcnode): give NAME=REF"},
		{"an unknown name", two, []string{"indexer=" + d("a")}, nil, "indexer is not an image of this run"},
		{"twice", two, []string{"rpcnode=" + d("a"), "rpcnode=" + d("b")}, nil, "a second ref for rpcnode"},
		{"a tag", two, []string{"rpcnode=ghcr.io/acme/rpcnode:stable"}, nil, "want an image pinned by digest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.ImageRefs(tt.refs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("refs %q %v, want %q", got, err, tt.want)
			}
		})
	}
}
