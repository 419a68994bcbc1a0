package retention

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

// endless writes prefix, then filler until the client hangs up.
func endless(w http.ResponseWriter, prefix, filler string) {
	w.Write([]byte(prefix))
	chunk := []byte(strings.Repeat(filler, 64<<10/len(filler)))
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// TestHostileRegistryBodies: answers that never end, or declare 2 GiB, are
// cut at the limit: prune fails with one line that names the request (or,
// for an image config, notes it), and its memory stays bounded.
func TestHostileRegistryBodies(t *testing.T) {
	cfg := []byte(`{"config":{}}`)
	cfgDigest := fmt.Sprintf("sha256:%x", sha256.Sum256(cfg))
	manifest, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cfg)), Digest: v1.Hash{Algorithm: "sha256", Hex: cfgDigest[7:]}}})
	serveManifest := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
		w.Header().Set("Docker-Content-Digest", fmt.Sprintf("sha256:%x", sha256.Sum256(manifest)))
		w.Header().Set("Content-Length", strconv.Itoa(len(manifest)))
		w.Write(manifest)
	}
	for _, tt := range []struct {
		name  string
		serve func(w http.ResponseWriter, r *http.Request)
		says  string // in the error; "" = no error, a note
	}{
		{"tag list declaring 2 GiB", func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/tags/list") {
				w.Header().Set("Content-Length", strconv.Itoa(2<<30))
				endless(w, `{"name":"acme/app","tags":[`, `"x",`)
				return
			}
			w.WriteHeader(http.StatusNotFound)
		}, "tags/list is 2147483648 bytes"},
		{"tag list that never ends", func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/tags/list") {
				endless(w, `{"name":"acme/app","tags":[`, `"x",`)
				return
			}
			w.WriteHeader(http.StatusNotFound)
		}, "tags/list is longer"},
		{"manifest that never ends", func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/tags/list"):
				w.Write([]byte(`{"name":"acme/app","tags":["v1"]}`))
			case strings.Contains(r.URL.Path, "/manifests/"):
				w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
				endless(w, `{"schemaVersion":2,"annotations":{"a":"`, "x")
			default:
				w.WriteHeader(http.StatusNotFound)
			}
		}, "manifests/v1 is longer"},
		{"config that never ends", func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/tags/list"):
				w.Write([]byte(`{"name":"acme/app","tags":["v1"]}`))
			case strings.Contains(r.URL.Path, "/manifests/"):
				serveManifest(w)
			case strings.Contains(r.URL.Path, "/blobs/"):
				endless(w, `{"config":{"Labels":{"a":"`, "x")
			default:
				w.WriteHeader(http.StatusNotFound)
			}
		}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/" {
					return
				}
				tt.serve(w, r)
			}))
			defer srv.Close()
			repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/acme/app")
			b, err := NewOCI(repo, fastRetry, WithReferrersAPI(false))
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			f, err := b.Facts(context.Background())
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<20 {
				t.Errorf("facts allocated %d MiB", alloc>>20)
			}
			if tt.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(strings.Join(f.Notes, "\n"), "config is over 4 MiB") {
					t.Errorf("notes %q: want the oversized config noted", f.Notes)
				}
				return
			}
			if err == nil || !errors.Is(err, registry.ErrAnswerTooLarge) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v: want %v saying %q", err, registry.ErrAnswerTooLarge, tt.says)
			}
			if strings.Count(err.Error(), "\n") > 0 || len(err.Error()) > 400 {
				t.Errorf("error is not one short line: %q", err)
			}
		})
	}
}
