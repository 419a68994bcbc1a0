package registry

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// attServer is a registry on 127.0.0.1 serving whatever a test puts in it
// for one subject: its .att manifest, its referrers fallback index,
// manifests and blobs by digest. It has no referrers API.
type attServer struct {
	srv     *httptest.Server
	subject name.Digest

	mu        sync.Mutex
	att       []byte // nil: no .att tag
	attType   types.MediaType
	fallback  []byte            // the referrers index; nil: none
	manifests map[string][]byte // by digest
	blobs     map[string][]byte // by digest
}

func newAttServer(t testing.TB) *attServer {
	t.Helper()
	s := &attServer{attType: types.OCIManifestSchema1, manifests: map[string][]byte{}, blobs: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	host := strings.TrimPrefix(s.srv.URL, "http://")
	s.subject = mustDigest(t, host+"/app@sha256:"+strings.Repeat("ab", 32))
	return s
}

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// set replaces what the server holds: the .att manifest of media type mt
// ("": OCI's), the referrers index, manifests and blobs.
func (s *attServer) set(att []byte, mt types.MediaType, fallback []byte, manifests, blobs [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mt == "" {
		mt = types.OCIManifestSchema1
	}
	s.att, s.attType, s.fallback = att, mt, fallback
	s.manifests, s.blobs = map[string][]byte{}, map[string][]byte{}
	for _, m := range manifests {
		s.manifests[sha(m)] = m
	}
	for _, b := range blobs {
		s.blobs[sha(b)] = b
	}
}

func (s *attServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	write := func(b []byte, mt types.MediaType) {
		if b == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", string(mt))
		w.Header().Set("Docker-Content-Digest", sha(b))
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	}
	hex := strings.TrimPrefix(s.subject.DigestStr(), "sha256:")
	switch p := r.URL.Path; {
	case p == "/v2/":
		w.WriteHeader(http.StatusOK)
	case p == "/v2/app/manifests/sha256-"+hex+".att":
		write(s.att, s.attType)
	case p == "/v2/app/manifests/sha256-"+hex:
		write(s.fallback, types.OCIImageIndex)
	case strings.HasPrefix(p, "/v2/app/manifests/sha256:"):
		write(s.manifests[strings.TrimPrefix(p, "/v2/app/manifests/")], types.OCIManifestSchema1)
	case strings.HasPrefix(p, "/v2/app/blobs/sha256:"):
		write(s.blobs[strings.TrimPrefix(p, "/v2/app/blobs/")], "application/octet-stream")
	default:
		w.WriteHeader(http.StatusNotFound) // the referrers API among others
	}
}

// attManifest is a .att (or referrer) manifest of layers; with subject, a
// referrer.
func attManifest(subject *v1.Descriptor, layers ...v1.Descriptor) []byte {
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: descriptorOf([]byte("{}"), types.OCIConfigJSON), Layers: layers, Subject: subject}
	if subject != nil {
		m.ArtifactType = InTotoArtifactType
	}
	b, _ := json.Marshal(m)
	return b
}

func dsseLayer(env []byte, predicateType string) v1.Descriptor {
	d := descriptorOf(env, DSSEMediaType)
	d.Annotations = map[string]string{annPredicateType: predicateType, annCosignSignature: ""}
	return d
}

func referrersIndex(refs ...[]byte) []byte {
	im := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, r := range refs {
		d := descriptorOf(r, types.OCIManifestSchema1)
		d.ArtifactType = InTotoArtifactType
		im.Manifests = append(im.Manifests, d)
	}
	b, _ := json.Marshal(im)
	return b
}

// Attestations refuses what it will not read.
func TestAttestationsRefuses(t *testing.T) {
	t.Parallel()
	s := newAttServer(t)
	c := newTestClient(t)
	ctx := ctxT(t)
	env := envelope(t, s.subject, testResultType).Envelope
	sub := &v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 100, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}}
	big := dsseLayer(env, testResultType)
	big.Size = MaxAttestationBytes + 1
	negative := dsseLayer(env, testResultType)
	negative.Size = -1
	var many []v1.Descriptor
	for i := range maxAttestations + 1 {
		many = append(many, dsseLayer([]byte(strconv.Itoa(i)), testResultType))
	}
	overTotal := func() []v1.Descriptor {
		var ls []v1.Descriptor
		for i := range maxAttestationsBytes/MaxAttestationBytes + 1 {
			l := dsseLayer([]byte(strconv.Itoa(i)), testResultType)
			l.Size = MaxAttestationBytes
			ls = append(ls, l)
		}
		return ls
	}()
	wrongSize := dsseLayer(env, testResultType)
	wrongSize.Size--
	for _, tt := range []struct {
		name      string
		att       []byte
		refs      [][]byte
		blobs     [][]byte
		mediaType types.MediaType
	}{
		{name: "a layer over 4 MiB", att: attManifest(nil, big)},
		{name: "a layer of negative size", att: attManifest(nil, negative)},
		{name: "a layer missing", att: attManifest(nil, dsseLayer(env, testResultType))},
		{name: "a layer of another size", att: attManifest(nil, wrongSize), blobs: [][]byte{env}},
		{name: "a layer of other content", att: attManifest(nil, dsseLayer(env, testResultType)), blobs: [][]byte{[]byte(strings.Repeat("x", len(env)))}},
		{name: "too many layers", att: attManifest(nil, many...)},
		{name: "too many bytes", att: attManifest(nil, overTotal...)},
		{name: "a referrer layer over 4 MiB", refs: [][]byte{attManifest(sub, big)}},
		{name: "not JSON", att: []byte("{")},
		{name: "an index", att: referrersIndex(), mediaType: types.OCIImageIndex},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var fb []byte
			if tt.refs != nil {
				fb = referrersIndex(tt.refs...)
			}
			s.set(tt.att, tt.mediaType, fb, tt.refs, tt.blobs)
			if got, err := c.Attestations(ctx, s.subject); !errors.Is(err, ErrVerifyMismatch) {
				t.Fatalf("Attestations = %d, %v; want ErrVerifyMismatch", len(got), err)
			}
		})
	}

	// Referrers that are not attestations of this subject are skipped.
	other := *sub
	other.Digest.Hex = strings.Repeat("cd", 32)
	good := attManifest(nil, dsseLayer(env, testResultType))
	for _, tt := range []struct {
		name string
		ref  []byte
	}{
		{"another subject", attManifest(&other, dsseLayer(env, testResultType))},
		{"no subject", attManifest(nil, dsseLayer(env, testResultType))},
		{"garbage", []byte("[1,2")},
	} {
		t.Run("skips a referrer of "+tt.name, func(t *testing.T) {
			s.set(good, "", referrersIndex(tt.ref), [][]byte{tt.ref}, [][]byte{env})
			got, err := c.Attestations(ctx, s.subject)
			if err != nil || len(got) != 1 {
				t.Fatalf("Attestations = %d, %v; want the .att's one", len(got), err)
			}
		})
	}
}

// FuzzAttestations: whatever a registry holds at the .att tag and among
// the referrers, Attestations does not panic, reads within its bounds, and
// returns only envelopes a DSSE layer names, each once.
func FuzzAttestations(f *testing.F) {
	s := newAttServer(f)
	c := newTestClient(f)
	env := envelope(f, s.subject, testResultType).Envelope
	sub := &v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 100, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}}
	for _, w := range cosignWrote {
		l := dsseLayer([]byte(w.envelope), w.predicateType)
		f.Add(attManifest(nil, l), []byte(w.envelope), attManifest(sub, l))
	}
	f.Add(attManifest(nil, dsseLayer(env, testResultType), v1.Descriptor{MediaType: types.OCILayer, Size: 3, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}}), env, []byte("{}"))
	f.Add([]byte(`{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.dsse.envelope.v1+json","size":-5,"digest":"sha256:"}]}`), []byte{}, []byte("null"))
	f.Add([]byte(`{"layers":null,"config":{"size":1e99}}`), []byte(`{"payload":""}`), []byte(`{"subject":{},"artifactType":"application/vnd.in-toto+json"}`))
	f.Add([]byte("\x00"), []byte("\xff"), []byte(""))
	f.Fuzz(func(t *testing.T, att, blob, ref []byte) {
		s.set(att, "", referrersIndex(ref), [][]byte{ref}, [][]byte{blob})
		got, err := c.Attestations(ctxT(t), s.subject)
		if err != nil {
			return
		}
		named := map[string]bool{}
		for _, raw := range [][]byte{att, ref} {
			var m v1.Manifest
			if json.Unmarshal(raw, &m) == nil {
				for _, l := range m.Layers {
					if l.MediaType == DSSEMediaType {
						named[l.Digest.String()] = true
					}
				}
			}
		}
		seen := map[string]bool{}
		var total int
		for _, a := range got {
			d := sha(a.Envelope)
			if !named[d] || seen[d] || len(a.Envelope) > MaxAttestationBytes {
				t.Fatalf("returned %s (%d bytes): named %v, seen %v", d, len(a.Envelope), named[d], seen[d])
			}
			seen[d] = true
			total += len(a.Envelope)
		}
		if len(got) > maxAttestations || total > maxAttestationsBytes {
			t.Fatalf("%d attestations, %d bytes", len(got), total)
		}
	})
}
