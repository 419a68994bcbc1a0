package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	c := newTestClient(t)
	ctx := ctxT(t)
	d := registrytest.PushImage(t, reg.Ref("app:v1"), registrytest.ImageSpec{})
	tests := []struct {
		name, ref string
		want      string
		wantErr   error
	}{
		{"tag", reg.Ref("app:v1"), d.String(), nil},
		{"digest", d.String(), d.String(), nil},
		{"missing tag", reg.Ref("app:nope"), "", ErrNotFound},
		{"missing repository", reg.Ref("nope:v1"), "", ErrNotFound},
		{"missing digest", reg.Ref("app@" + zeroDigest), "", ErrNotFound},
		{"bad reference", "UPPER/Case::x", "", ErrInvalidRequest},
		{"bad digest", reg.Ref("app@sha256:abc"), "", ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Resolve(ctx, tt.ref)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Resolve(%q) err = %v, want %v", tt.ref, err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Fatalf("Resolve(%q) = %s, want %s", tt.ref, got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	c := newTestClient(t)
	ctx := ctxT(t)

	img := registrytest.PushImage(t, reg.Ref("app:v1"), rev("abc"))
	nolabel := registrytest.PushImage(t, reg.Ref("app:nolabel"), registrytest.ImageSpec{})
	idx := registrytest.PushIndex(t, reg.Ref("app:multi"), rev("abc"), rev("abc"))
	mixed := registrytest.PushIndex(t, reg.Ref("app:mixed"), rev("abc"), rev("old"))
	// A BuildKit-style index: one image and its attestation manifest, which
	// carries no labels.
	att := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: registrytest.NewImage(t, rev("abc")), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: registrytest.NewImage(t, registrytest.ImageSpec{}), Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{attestationAnnotation: "attestation-manifest"},
		}})
	if err := remote.WriteIndex(mustTag(t, reg.Ref("app:attested")), att); err != nil {
		t.Fatal(err)
	}
	promoted := registrytest.PushImage(t, reg.Ref("ci/app:v2"), rev("def"))
	if _, err := c.Promote(ctx, req(promoted, reg.Ref("prod/app"), []string{"v2"}, nil, "")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		ref     string
		opts    VerifyOptions
		wantErr error
		msg     string
	}{
		{"image", reg.Ref("app:v1"), VerifyOptions{}, nil, ""},
		{"image full with revision", reg.Ref("app:v1"), VerifyOptions{Full: true, Revision: "abc"}, nil, ""},
		{"by digest", img.String(), VerifyOptions{Revision: "abc"}, nil, ""},
		{"revision differs", reg.Ref("app:v1"), VerifyOptions{Revision: "def"}, ErrVerifyMismatch, `label org.opencontainers.image.revision is "abc", want "def"`},
		{"no revision label", nolabel.String(), VerifyOptions{Revision: "abc"}, ErrVerifyMismatch, "no org.opencontainers.image.revision label"},
		{"index", reg.Ref("app:multi"), VerifyOptions{Full: true, Revision: "abc"}, nil, ""},
		{"index with a stale child", mixed.String(), VerifyOptions{Revision: "abc"}, ErrVerifyMismatch, `is "old", want "abc"`},
		{"attestations carry no label", reg.Ref("app:attested"), VerifyOptions{Revision: "abc", Full: true}, nil, ""},
		{"promotion required and present", reg.Ref("prod/app:v2"), VerifyOptions{RequirePromotion: true, Revision: "def"}, nil, ""},
		{"promotion required and absent", reg.Ref("app:v1"), VerifyOptions{RequirePromotion: true}, ErrVerifyMismatch, "no promotion record"},
		{"not found", reg.Ref("app:nope"), VerifyOptions{}, ErrNotFound, ""},
		{"bad ref", "::", VerifyOptions{}, ErrInvalidRequest, ""},
	}
	_ = idx
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Verify(ctx, tt.ref, tt.opts)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Verify err = %v, want %v", err, tt.wantErr)
			}
			if tt.msg != "" && !contains(err.Error(), tt.msg) {
				t.Fatalf("Verify err = %q, want it to say %q", err, tt.msg)
			}
		})
	}
}

// TestVerifyCatchesStorageDamage damages each blob of an image in the
// registry's storage, both ways, and wants Verify to fail every time:
// always with Full, and without it whenever the size changed.
func TestVerifyCatchesStorageDamage(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	c := newTestClient(t)
	ctx := ctxT(t)
	for _, how := range []registrytest.Corruption{registrytest.FlipByte, registrytest.Truncate} {
		for i := range 4 { // config, then layers 1-3
			t.Run(fmt.Sprintf("%d/blob%d", how, i), func(t *testing.T) {
				d := registrytest.PushImage(t, reg.Ref(fmt.Sprintf("dmg%d/app%d:v1", how, i)), registrytest.ImageSpec{Layers: 3, LayerSize: 3000})
				im, _ := remote.Image(d)
				m, _ := im.Manifest()
				blob := m.Config
				what := "config"
				if i > 0 {
					blob, what = m.Layers[i-1], fmt.Sprintf("layer %d", i)
				}
				if _, err := c.Verify(ctx, d.String(), VerifyOptions{Full: true}); err != nil {
					t.Fatalf("before damage: %v", err)
				}
				reg.CorruptBlob(t, blob.Digest, how)
				_, err := c.Verify(ctx, d.String(), VerifyOptions{Full: true})
				if !errors.Is(err, ErrVerifyMismatch) || !contains(err.Error(), what) || !contains(err.Error(), blob.Digest.String()) {
					t.Fatalf("full verify of damaged %s: %v", what, err)
				}
				_, err = c.Verify(ctx, d.String(), VerifyOptions{})
				// The config is always hashed; a layer only with Full,
				// unless its size changed.
				if caught := errors.Is(err, ErrVerifyMismatch); caught != (i == 0 || how == registrytest.Truncate) {
					t.Fatalf("quick verify of damaged %s (%d): %v", what, how, err)
				}
			})
		}
	}
}

func TestVerifyMissingBlob(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	if !reg.Real() {
		t.Skip("needs the real registry's storage")
	}
	c := newTestClient(t)
	d := registrytest.PushImage(t, reg.Ref("app:v1"), registrytest.ImageSpec{Layers: 2})
	im, _ := remote.Image(d)
	m, _ := im.Manifest()
	h := m.Layers[1].Digest
	if err := os.RemoveAll(filepath.Join(reg.StorageDir(), "docker/registry/v2/blobs/sha256", h.Hex[:2], h.Hex)); err != nil {
		t.Fatal(err)
	}
	for _, full := range []bool{false, true} {
		_, err := c.Verify(ctxT(t), d.String(), VerifyOptions{Full: full})
		if !errors.Is(err, ErrVerifyMismatch) || !contains(err.Error(), "layer 2") {
			t.Fatalf("full=%v: %v", full, err)
		}
	}
}
