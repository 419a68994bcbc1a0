package registry

import (
	"bytes"
	"net/http"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BenchmarkLayerMediaTypes: what copyDeps needs of each blob of a source
// image of MaxLayers-1 layers (digest, size, media type), read the way it
// does now (the manifest parsed once) beside the way it did (ggcr's
// remote image, asked per layer, which parses the manifest again each
// time: quadratic).
func BenchmarkLayerMediaTypes(b *testing.B) {
	src := newHostileSource(b, imageManifest(MaxLayers-1), types.OCIManifestSchema1, http.StatusOK)
	ref := mustDigest(b, src.ref())
	desc, err := remote.Get(ref)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parsed-once", func(b *testing.B) {
		for b.Loop() {
			m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, d := range append(m.Layers, m.Config) {
				if d.MediaType.IsDistributable() {
					n++
				}
			}
		}
	})
	b.Run("remote-image-per-layer", func(b *testing.B) {
		for b.Loop() {
			img, err := desc.Image()
			if err != nil {
				b.Fatal(err)
			}
			layers, err := img.Layers()
			if err != nil {
				b.Fatal(err)
			}
			for _, l := range layers {
				if mt, err := l.MediaType(); err != nil || !mt.IsDistributable() {
					b.Fatal(mt, err)
				}
			}
		}
	})
}
