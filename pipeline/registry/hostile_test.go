package registry

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	rt "github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// hostileSource is a registry on 127.0.0.1 that serves one manifest as
// src/app@<its digest> and answers every blob request with blobStatus.
type hostileSource struct {
	srv      *httptest.Server
	digest   string
	blobHits atomic.Int64
}

var hostileManifestPath = regexp.MustCompile(`^/v2/src/app/manifests/([^/]+)$`)

func newHostileSource(t testing.TB, manifest []byte, mt types.MediaType, blobStatus int) *hostileSource {
	t.Helper()
	h := &hostileSource{digest: fmt.Sprintf("sha256:%x", sha256.Sum256(manifest))}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch m := hostileManifestPath.FindStringSubmatch(r.URL.Path); {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case m != nil && m[1] == h.digest:
			w.Header().Set("Content-Type", string(mt))
			w.Header().Set("Docker-Content-Digest", h.digest)
			w.Header().Set("Content-Length", strconv.Itoa(len(manifest)))
			if r.Method == http.MethodGet {
				w.Write(manifest)
			}
		case strings.Contains(r.URL.Path, "/blobs/"):
			h.blobHits.Add(1)
			w.WriteHeader(blobStatus)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostileSource) ref() string {
	return strings.TrimPrefix(h.srv.URL, "http://") + "/src/app@" + h.digest
}

func imageManifest(layers int) []byte {
	fake := func(i int) v1.Hash {
		return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256([]byte(strconv.Itoa(i))))}
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: 100, Digest: fake(-1)}}
	for i := range layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.OCILayer, Size: 1000, Digest: fake(i)})
	}
	b, _ := json.Marshal(m)
	return b
}

// TestHostileSource: a source Slipway cannot or will not copy fails the
// promotion with a clear error, and nothing is written to the target (no
// upload session, no blob link, no new repository in _catalog).
func TestHostileSource(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		manifest   []byte
		mt         types.MediaType
		blobStatus int
		is         error
		says       string
	}{
		{"100,000 layers", imageManifest(100_000), types.OCIManifestSchema1, http.StatusOK, ErrInvalidRequest, "100000 layers"},
		{"missing blobs", imageManifest(3), types.OCIManifestSchema1, http.StatusNotFound, ErrNotFound, "reading source blob"},
		{"blobs answer 500", imageManifest(3), types.OCIManifestSchema1, http.StatusInternalServerError, nil, "500"},
		{"manifest is not JSON", []byte("<html>not a manifest</html>"), types.OCIManifestSchema1, http.StatusOK, ErrVerifyMismatch, "does not parse"},
		{"index of 5,000 manifests", indexManifest(5000), types.OCIImageIndex, http.StatusOK, ErrInvalidRequest, "5000 manifests"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := rt.New(t)
			proxy := rt.NewFaultProxy(t, reg.Host(), 1)
			src := newHostileSource(t, tt.manifest, tt.mt, tt.blobStatus)
			c := newTestClient(t)
			_, err := c.Promote(ctxT(t), req(mustDigest(t, src.ref()), proxy.Host()+"/dst/app", []string{"sha-abcdef0"}, []string{"stable"}, ExpectNone))
			if err == nil {
				t.Fatal("promotion of a hostile source succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "src/app") {
				t.Errorf("error %q: want it to say %q and name the source", err, tt.says)
			}
			if n := writes(proxy); n != 0 {
				t.Errorf("%d writes reached the target: %v", n, proxy.Stats().ByMethod)
			}
			resp, err := http.Get("http://" + reg.Host() + "/v2/_catalog")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if strings.Contains(string(body), "dst/app") {
				t.Errorf("the target repository exists: %s", body)
			}
		})
	}
}

func indexManifest(n int) []byte {
	im := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for i := range n {
		im.Manifests = append(im.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 500,
			Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256([]byte(strconv.Itoa(i))))}})
	}
	b, _ := json.Marshal(im)
	return b
}

// TestCopyStopsAtFirstFailure: once one blob upload fails for good, the
// others are not started.
func TestCopyStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	srcReg, dstReg := rt.New(t), rt.New(t)
	src := rt.PushImage(t, srcReg.Ref("src/app:v1"), rt.ImageSpec{Layers: 16, LayerSize: 256, Raw: true})
	post := &rt.Rule{Method: http.MethodPost, Path: `/blobs/uploads/`, Fault: rt.Status, Status: http.StatusForbidden, Code: "DENIED"}
	proxy := rt.NewFaultProxy(t, dstReg.Host(), 1, post)
	c := newTestClient(t, WithJobs(1))
	_, err := c.Promote(ctxT(t), req(src, proxy.Host()+"/dst/app", []string{"sha-abcdef0"}, nil, ""))
	if err == nil {
		t.Fatal("promotion through a target refusing uploads succeeded")
	}
	// One blob's upload (ggcr may try a refused POST twice), and the
	// record's blob beside it.
	if n := post.Injected(); n > 3 {
		t.Errorf("%d uploads started after the first failed for good (17 blobs)", n)
	}
}

// TestClientBoundsAnswers: a source registry whose manifest never ends,
// or declares 2 GiB, fails the promotion with ErrAnswerTooLarge naming
// the request, and nothing is written to the target.
func TestClientBoundsAnswers(t *testing.T) {
	t.Parallel()
	for _, declared := range []bool{false, true} {
		t.Run(fmt.Sprintf("declared-%v", declared), func(t *testing.T) {
			t.Parallel()
			const digest = "sha256:" + "1111111111111111111111111111111111111111111111111111111111111111"
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return
				}
				w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
				w.Header().Set("Docker-Content-Digest", digest)
				if declared {
					w.Header().Set("Content-Length", strconv.Itoa(2<<30))
				}
				if r.Method != http.MethodGet {
					return
				}
				w.Write([]byte(`{"schemaVersion":2,"annotations":{"a":"`))
				chunk := []byte(strings.Repeat("x", 64<<10))
				for {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			}))
			defer srv.Close()
			reg := rt.New(t)
			proxy := rt.NewFaultProxy(t, reg.Host(), 1)
			src := mustDigest(t, strings.TrimPrefix(srv.URL, "http://")+"/src/app@"+digest)
			_, err := newTestClient(t).Promote(ctxT(t), req(src, proxy.Host()+"/dst/app", []string{"v1"}, nil, ""))
			if !errors.Is(err, ErrAnswerTooLarge) || !strings.Contains(err.Error(), "/v2/src/app/manifests/"+digest) {
				t.Fatalf("error %v: want %v naming the request", err, ErrAnswerTooLarge)
			}
			if n := writes(proxy); n != 0 {
				t.Errorf("%d writes reached the target", n)
			}
		})
	}
}
