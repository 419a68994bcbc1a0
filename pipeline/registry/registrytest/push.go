package registrytest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ImageSpec describes a fixture image. The zero value is a one-layer image
// of 512 random bytes.
type ImageSpec struct {
	// Layers is the number of layers (default 1).
	Layers int
	// LayerSize is the random content per layer in bytes (default 512).
	LayerSize int64
	// Labels go into the config (e.g. org.opencontainers.image.revision).
	Labels map[string]string
	// Raw makes each layer LayerSize raw random bytes (OCI layer media
	// type, no tar or gzip): blob size = LayerSize exactly, and fast to
	// build at hundreds of MB. Otherwise layers are ggcr random tarballs.
	Raw bool
	// Platform is set in the config and, inside an index, on the child's
	// descriptor (default linux/amd64).
	Platform *v1.Platform
}

// NewImage builds the image spec describes, with fresh random content.
func NewImage(t testing.TB, spec ImageSpec) v1.Image {
	t.Helper()
	img, err := newImage(spec)
	if err != nil {
		t.Fatalf("registrytest: building image: %v", err)
	}
	return img
}

func newImage(spec ImageSpec) (v1.Image, error) {
	n := spec.Layers
	if n <= 0 {
		n = 1
	}
	size := spec.LayerSize
	if size <= 0 {
		size = 512
	}
	var img v1.Image
	if spec.Raw {
		img = mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		for range n {
			b := make([]byte, size)
			rand.Read(b)
			var err error
			img, err = mutate.AppendLayers(img, static.NewLayer(b, types.OCILayer))
			if err != nil {
				return nil, err
			}
		}
	} else {
		var err error
		img, err = random.Image(size, int64(n))
		if err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	p := spec.Platform
	if p == nil {
		p = &v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	if len(spec.Labels) > 0 {
		if cf.Config.Labels == nil {
			cf.Config.Labels = map[string]string{}
		}
		for k, v := range spec.Labels {
			cf.Config.Labels[k] = v
		}
	}
	return mutate.ConfigFile(img, cf)
}

// PushImage builds the image spec describes and pushes it to ref (a tag or
// a bare repository, which pushes by digest). It returns the pushed digest.
func PushImage(t testing.TB, ref string, spec ImageSpec) name.Digest {
	t.Helper()
	img := NewImage(t, spec)
	return Write(t, ref, img)
}

// Write pushes img to ref (a tag, or a bare repository to push by digest).
func Write(t testing.TB, ref string, img v1.Image) name.Digest {
	t.Helper()
	r, repo := parse(t, ref)
	d, err := img.Digest()
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	if r == nil {
		r = repo.Digest(d.String())
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("registrytest: pushing %s: %v", r, err)
	}
	return repo.Digest(d.String())
}

// PushIndex pushes an OCI index of one image per spec (platforms default to
// linux/amd64, linux/arm64, … in order) to ref and returns its digest.
func PushIndex(t testing.TB, ref string, specs ...ImageSpec) name.Digest {
	t.Helper()
	archs := []string{"amd64", "arm64", "s390x", "ppc64le", "riscv64"}
	var adds []mutate.IndexAddendum
	for i, spec := range specs {
		if spec.Platform == nil {
			spec.Platform = &v1.Platform{OS: "linux", Architecture: archs[i%len(archs)]}
		}
		img := NewImage(t, spec)
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: spec.Platform}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	r, repo := parse(t, ref)
	d, err := idx.Digest()
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	if r == nil {
		r = repo.Digest(d.String())
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("registrytest: pushing index %s: %v", r, err)
	}
	return repo.Digest(d.String())
}

// PushReferrer pushes an OCI artifact of artifactType (one small random
// layer) whose subject is subject, into subject's repository. ggcr keeps
// the referrers tag-schema index (sha256-<hex>) up to date on registries
// without the referrers API.
func PushReferrer(t testing.TB, subject name.Digest, artifactType string) name.Digest {
	t.Helper()
	sub, err := remote.Head(subject)
	if err != nil {
		t.Fatalf("registrytest: subject %s: %v", subject, err)
	}
	repo := subject.Context()
	content := make([]byte, 64)
	rand.Read(content)
	layer := static.NewLayer(content, types.MediaType(artifactType+".layer"))
	cfg := static.NewLayer([]byte("{}"), types.MediaType("application/vnd.oci.empty.v1+json"))
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(repo, l); err != nil {
			t.Fatalf("registrytest: pushing referrer blob: %v", err)
		}
	}
	ld, _ := partialDescriptor(layer)
	cd, _ := partialDescriptor(cfg)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Config:        cd,
		Layers:        []v1.Descriptor{ld},
		Subject:       &v1.Descriptor{MediaType: sub.MediaType, Size: sub.Size, Digest: sub.Digest},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	ref := repo.Digest(h.String())
	if err := remote.Put(ref, RawManifest{Bytes: raw, Type: types.OCIManifestSchema1}); err != nil {
		t.Fatalf("registrytest: pushing referrer: %v", err)
	}
	return ref
}

// PushCosignSignature pushes a small image under cosign's tag for
// subject's signature, sha256-<hex>.sig, in subject's repository.
func PushCosignSignature(t testing.TB, subject name.Digest) name.Digest {
	t.Helper()
	tag := strings.Replace(subject.DigestStr(), ":", "-", 1) + ".sig"
	return PushImage(t, subject.Context().Tag(tag).String(), ImageSpec{LayerSize: 128})
}

// Tag points tag (a full tag reference) at the manifest d.
func Tag(t testing.TB, tag string, d name.Digest) {
	t.Helper()
	tg, err := name.NewTag(tag)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	desc, err := remote.Get(d)
	if err != nil {
		t.Fatalf("registrytest: %s: %v", d, err)
	}
	if err := remote.Tag(tg, desc); err != nil {
		t.Fatalf("registrytest: tagging %s: %v", tg, err)
	}
}

// Head returns the digest ref points at, and false when it does not exist.
func Head(t testing.TB, ref string) (name.Digest, bool) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	desc, err := remote.Head(r)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return name.Digest{}, false
	}
	if err != nil {
		t.Fatalf("registrytest: HEAD %s: %v", ref, err)
	}
	return r.Context().Digest(desc.Digest.String()), true
}

// RawManifest is a remote.Taggable made of a manifest's bytes and media
// type, to put hand-built manifests.
type RawManifest struct {
	Bytes []byte
	Type  types.MediaType
}

// RawManifest implements remote.Taggable.
func (m RawManifest) RawManifest() ([]byte, error) { return m.Bytes, nil }

// MediaType is the Content-Type the manifest is put with.
func (m RawManifest) MediaType() (types.MediaType, error) { return m.Type, nil }

func partialDescriptor(l v1.Layer) (v1.Descriptor, error) {
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	s, err := l.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := l.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Size: s, Digest: d}, nil
}

// parse splits ref into a reference (nil for a bare repository) and its
// repository.
func parse(t testing.TB, ref string) (name.Reference, name.Repository) {
	t.Helper()
	if repo, err := name.NewRepository(ref); err == nil && !strings.ContainsAny(ref[strings.LastIndex(ref, "/")+1:], ":@") {
		return nil, repo
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	return r, r.Context()
}
