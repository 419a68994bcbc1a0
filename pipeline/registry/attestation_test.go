package registry

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	rt "github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

const (
	testResultType = "https://in-toto.io/attestation/test-result/v0.1"
	slsaType       = "https://slsa.dev/provenance/v1"
)

// What `cosign attest --key cosign.key --tlog-upload=false` (v2.6.1) wrote
// to a distribution 2.8 registry for 127.0.0.1:45123/app@sha256:1e8fe4…:
// the envelope of each call, and the .att image's config and manifest
// after the first call and after the second. Byte for byte, ours must be
// the same.
var cosignWrote = []struct {
	predicateType, envelope string
	config, manifest        string // digests
	configSize              int64
}{
	{
		testResultType,
		`{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjAuMSIsInByZWRpY2F0ZVR5cGUiOiJodHRwczovL2luLXRvdG8uaW8vYXR0ZXN0YXRpb24vdGVzdC1yZXN1bHQvdjAuMSIsInN1YmplY3QiOlt7Im5hbWUiOiIxMjcuMC4wLjE6NDUxMjMvYXBwIiwiZGlnZXN0Ijp7InNoYTI1NiI6IjFlOGZlNDBhZTI1NzU0YzEyMTk2Y2VlYTI2MTdhNTcxYWI5MjlhYWNjYzY2YjAwMDBlMzVkMzU4MjFiZjM1MDQifX1dLCJwcmVkaWNhdGUiOnsicGFzc2VkVGVzdHMiOlsiYSJdLCJyZXN1bHQiOiJQQVNTRUQifX0=","signatures":[{"keyid":"","sig":"MEYCIQC5pwFvxaUA1KX412nlF5R90DzrIXVMf7nYKtLHBCHSnQIhALE0T3aHBWrg9JfPVe82ra3y9mSeuqkUsbF6Zac3ADqc"}]}`,
		"sha256:f566f3bde6ed112c55cf53992c4700b56b27541ac675cc908a71936e2daef1ac",
		"sha256:d09d902658f40a8ac389201fff88ebdebf45eadcf1025bc2d7f315ec39389af5",
		233,
	},
	{
		"https://slipway.dev/custom/v1",
		`{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjAuMSIsInByZWRpY2F0ZVR5cGUiOiJodHRwczovL3NsaXB3YXkuZGV2L2N1c3RvbS92MSIsInN1YmplY3QiOlt7Im5hbWUiOiIxMjcuMC4wLjE6NDUxMjMvYXBwIiwiZGlnZXN0Ijp7InNoYTI1NiI6IjFlOGZlNDBhZTI1NzU0YzEyMTk2Y2VlYTI2MTdhNTcxYWI5MjlhYWNjYzY2YjAwMDBlMzVkMzU4MjFiZjM1MDQifX1dLCJwcmVkaWNhdGUiOnsicGFzc2VkVGVzdHMiOlsiYSJdLCJyZXN1bHQiOiJQQVNTRUQifX0=","signatures":[{"keyid":"","sig":"MEUCIC5qnEkQTDsZ03QU7yhUb6itIUFkuwN6T7JNCpolmhkoAiEA2imYzcAaMNWyp/d3v1MlPaJIbgON+//y12mHUB3KvVE="}]}`,
		"sha256:91d10e0c87c5cb69df42e5f22f184fe9190b6a7b87294a21148d516f09d0e394",
		"sha256:74c227ac065b31accc1938f0ced774be84e51f40223563d968527e10b74af725",
		342,
	},
}

// TestAttestationLayoutIsCosigns: the .att image we build is the one
// cosign builds, byte for byte, fresh and appended to.
func TestAttestationLayoutIsCosigns(t *testing.T) {
	t.Parallel()
	var cur *v1.Manifest
	var cfg *v1.ConfigFile
	for i, w := range cosignWrote {
		layers, err := attestationLayers([]Attestation{{PredicateType: w.predicateType, Envelope: []byte(w.envelope)}})
		if err != nil {
			t.Fatal(err)
		}
		raw, mt, cfgRaw, err := appendAttestations(cur, cfg, layers)
		if err != nil {
			t.Fatal(err)
		}
		if mt != types.OCIManifestSchema1 {
			t.Errorf("call %d: media type %s", i+1, mt)
		}
		if got := descriptorOf(cfgRaw, "").Digest.String(); got != w.config || int64(len(cfgRaw)) != w.configSize {
			t.Errorf("call %d: config %s (%d bytes), cosign's %s (%d bytes):\n%s", i+1, got, len(cfgRaw), w.config, w.configSize, cfgRaw)
		}
		if got := descriptorOf(raw, "").Digest.String(); got != w.manifest {
			t.Errorf("call %d: manifest %s, cosign's %s:\n%s", i+1, got, w.manifest, raw)
		}
		var m v1.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		var c v1.ConfigFile
		if err := json.Unmarshal(cfgRaw, &c); err != nil {
			t.Fatal(err)
		}
		cur, cfg = &m, &c
	}
}

// envelope is a hand-made DSSE envelope of an in-toto statement about
// subject (its signature is random bytes).
func envelope(t testing.TB, subject name.Digest, predicateType string) Attestation {
	t.Helper()
	st, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": subject.Context().String(), "digest": map[string]string{"sha256": strings.TrimPrefix(subject.DigestStr(), "sha256:")}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{"result": "PASSED"},
	})
	sig := make([]byte, 64)
	rand.Read(sig)
	env, _ := json.Marshal(map[string]any{
		"payloadType": "application/vnd.in-toto+json",
		"payload":     base64.StdEncoding.EncodeToString(st),
		"signatures":  []any{map[string]string{"keyid": "", "sig": base64.StdEncoding.EncodeToString(sig)}},
	})
	return Attestation{PredicateType: predicateType, Envelope: env}
}

// pushCosignAtt writes subject's .att image holding atts as cosign does:
// ggcr's mutate.Append over an empty OCI image, one annotated layer each.
func pushCosignAtt(t testing.TB, subject name.Digest, atts ...Attestation) name.Digest {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, a := range atts {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:       static.NewLayer(a.Envelope, DSSEMediaType),
			Annotations: map[string]string{annPredicateType: a.PredicateType, annCosignSignature: ""},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return rt.Write(t, attestationTag(subject).String(), img)
}

// attLayers reads subject's .att manifest: its digest and layers.
func attLayers(t testing.TB, subject name.Digest) (string, []v1.Descriptor) {
	t.Helper()
	desc, err := remote.Get(attestationTag(subject))
	if err != nil {
		t.Fatalf("reading %s: %v", attestationTag(subject), err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	return desc.Digest.String(), m.Layers
}

// inTotoReferrers lists subject's referrers of InTotoArtifactType.
func inTotoReferrers(t testing.TB, subject name.Digest) []v1.Descriptor {
	t.Helper()
	idx, err := remote.Referrers(subject)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		// ggcr's registry lists the config's media type, not artifactType.
		desc, err := remote.Get(subject.Context().Digest(d.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		var m v1.Manifest
		if err := json.Unmarshal(desc.Manifest, &m); err != nil {
			t.Fatal(err)
		}
		if m.ArtifactType == InTotoArtifactType {
			out = append(out, d)
		}
	}
	return out
}

func sameAttestations(got, want []Attestation) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d attestations, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].PredicateType != want[i].PredicateType || !bytes.Equal(got[i].Envelope, want[i].Envelope) {
			return fmt.Errorf("attestation %d: %s %.40q…, want %s %.40q…", i, got[i].PredicateType, got[i].Envelope, want[i].PredicateType, want[i].Envelope)
		}
	}
	return nil
}

var attRegistries = []struct {
	name string
	opts []rt.Option
}{
	{"distribution", nil}, // no referrers API: the sha256-<hex> fallback index
	{"referrers-api", []rt.Option{rt.ReferrersAPI()}},
}

func TestAttachAttestations(t *testing.T) {
	t.Parallel()
	// Attestations are named a1, a2, … (ours) and c1, c2 (cosign's, pushed
	// first); "a1'" is a1's envelope under another predicate type.
	tests := []struct {
		name   string
		cosign []string   // in the .att image before
		attach [][]string // one AttachAttestations per entry
		want   []string   // Attestations afterwards, in order
	}{
		{"fresh", nil, [][]string{{"a1", "a2"}}, []string{"a1", "a2"}},
		{"appends to cosign's", []string{"c1", "c2"}, [][]string{{"a1"}}, []string{"c1", "c2", "a1"}},
		{"an envelope twice in one call", nil, [][]string{{"a1", "a1'", "a2"}}, []string{"a1", "a2"}},
		{"an envelope cosign has", []string{"c1"}, [][]string{{"c1", "a1"}}, []string{"c1", "a1"}},
		{"a later call adds what is new", nil, [][]string{{"a1"}, {"a2", "a1"}}, []string{"a1", "a2"}},
		{"nothing to attach", []string{"c1"}, [][]string{{}}, []string{"c1"}},
	}
	for _, reg := range attRegistries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			r := rt.New(t, reg.opts...)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					ctx := ctxT(t)
					subject := rt.PushImage(t, r.Ref(fmt.Sprintf("app%d:v1", i)), rt.ImageSpec{})
					named := map[string]Attestation{}
					for _, n := range []string{"a1", "a2", "c1", "c2"} {
						named[n] = envelope(t, subject, map[bool]string{true: testResultType, false: slsaType}[n != "a2"])
					}
					named["a1'"] = Attestation{PredicateType: "https://example.com/other", Envelope: named["a1"].Envelope}
					pick := func(ns []string) []Attestation {
						var out []Attestation
						for _, n := range ns {
							out = append(out, named[n])
						}
						return out
					}
					if tt.cosign != nil {
						pushCosignAtt(t, subject, pick(tt.cosign)...)
					}
					c := newTestClient(t)
					for _, call := range tt.attach {
						if err := c.AttachAttestations(ctx, subject, pick(call)); err != nil {
							t.Fatalf("AttachAttestations: %v", err)
						}
					}
					got, err := c.Attestations(ctx, subject)
					if err != nil {
						t.Fatal(err)
					}
					if err := sameAttestations(got, pick(tt.want)); err != nil {
						t.Fatal(err)
					}

					// The .att image holds each once, cosign's first, and is
					// whole (every blob there, of the size and digest given).
					attDigest, layers := attLayers(t, subject)
					var gotDigests, wantDigests []string
					for _, l := range layers {
						gotDigests = append(gotDigests, l.Digest.String())
						if l.MediaType != DSSEMediaType || l.Annotations[annPredicateType] == "" || l.Annotations[annCosignSignature] != "" {
							t.Errorf("layer %s: %s %v", l.Digest, l.MediaType, l.Annotations)
						}
					}
					for _, a := range pick(tt.want) {
						wantDigests = append(wantDigests, descriptorOf(a.Envelope, "").Digest.String())
					}
					if !slices.Equal(gotDigests, wantDigests) {
						t.Fatalf(".att layers %v, want %v", gotDigests, wantDigests)
					}
					if _, err := c.Verify(ctx, attestationTag(subject).String(), VerifyOptions{Full: true}); err != nil {
						t.Fatalf(".att image: %v", err)
					}

					// One referrer per envelope we attached.
					ours := map[string]bool{}
					for _, call := range tt.attach {
						for _, a := range pick(call) {
							ours[descriptorOf(a.Envelope, "").Digest.String()] = true
						}
					}
					if refs := inTotoReferrers(t, subject); len(refs) != len(ours) {
						t.Fatalf("%d in-toto referrers, want %d", len(refs), len(ours))
					}

					// Again, through a proxy that counts: nothing is written.
					p := rt.NewFaultProxy(t, r.Host(), 1)
					again := onHost(t, subject, p.Host())
					for _, call := range tt.attach {
						if err := c.AttachAttestations(ctx, again, pick(call)); err != nil {
							t.Fatalf("again: %v", err)
						}
					}
					if w := writes(p); w != 0 {
						t.Fatalf("attaching again wrote %d requests", w)
					}
					if d, _ := attLayers(t, subject); d != attDigest {
						t.Fatalf(".att moved from %s to %s", attDigest, d)
					}

					// Without the .att image, the referrers still hold ours.
					if err := remote.Delete(subject.Context().Digest(attDigest)); err != nil {
						t.Fatal(err)
					}
					got, err = c.Attestations(ctx, subject)
					if err != nil {
						t.Fatal(err)
					}
					var fromRefs []Attestation
					for _, a := range pick(tt.want) {
						if ours[descriptorOf(a.Envelope, "").Digest.String()] {
							fromRefs = append(fromRefs, a)
						}
					}
					// (in the registry's order: ggcr sorts the fallback index)
					byDigest := func(a, b Attestation) int { return strings.Compare(sha(a.Envelope), sha(b.Envelope)) }
					slices.SortFunc(got, byDigest)
					slices.SortFunc(fromRefs, byDigest)
					if err := sameAttestations(got, fromRefs); err != nil {
						t.Fatalf("from the referrers: %v", err)
					}
				})
			}
		})
	}
}

func TestAttestationsNone(t *testing.T) {
	t.Parallel()
	r := rt.New(t)
	subject := rt.PushImage(t, r.Ref("app:v1"), rt.ImageSpec{})
	rt.PushReferrer(t, subject, "application/vnd.test.sbom") // not an attestation
	got, err := newTestClient(t).Attestations(ctxT(t), subject)
	if err != nil || len(got) != 0 {
		t.Fatalf("Attestations = %v, %v; want none", got, err)
	}
}

// Promotion records are referrers with an empty config too: each kind of
// artifact is read as what it is.
func TestAttestationsBesideRecords(t *testing.T) {
	t.Parallel()
	for _, reg := range attRegistries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			r := rt.New(t, reg.opts...)
			ctx := ctxT(t)
			c := newTestClient(t)
			src := rt.PushImage(t, r.Ref("ci/app:c"), rev("c"))
			if _, err := c.Promote(ctx, req(src, r.Ref("app"), []string{"sha-c"}, nil, ExpectNone)); err != nil {
				t.Fatal(err)
			}
			subject := mustDigest(t, r.Ref("app@"+src.DigestStr()))
			a := envelope(t, subject, testResultType)
			if err := c.AttachAttestations(ctx, subject, []Attestation{a}); err != nil {
				t.Fatal(err)
			}
			got, err := c.Attestations(ctx, subject)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameAttestations(got, []Attestation{a}); err != nil {
				t.Fatal(err)
			}
			if recs, err := c.ReadPromotionRecords(ctx, subject); err != nil || len(recs) != 1 {
				t.Fatalf("records: %v, %v", recs, err)
			}
		})
	}
}

func TestAttachAttestationsRefuses(t *testing.T) {
	t.Parallel()
	r := rt.New(t)
	ctx := ctxT(t)
	c := newTestClient(t)
	subject := rt.PushImage(t, r.Ref("app:v1"), rt.ImageSpec{})
	good := envelope(t, subject, testResultType)
	for _, tt := range []struct {
		name string
		atts []Attestation
		want error
	}{
		{"no predicate type", []Attestation{{Envelope: good.Envelope}}, ErrInvalidRequest},
		{"no envelope", []Attestation{{PredicateType: testResultType}}, ErrInvalidRequest},
		{"not JSON", []Attestation{{PredicateType: testResultType, Envelope: []byte("{")}}, ErrInvalidRequest},
		{"too large", []Attestation{{PredicateType: testResultType, Envelope: []byte(`"` + strings.Repeat("a", MaxAttestationBytes) + `"`)}}, ErrInvalidRequest},
		{"one bad among good", []Attestation{good, {PredicateType: "", Envelope: good.Envelope}}, ErrInvalidRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.AttachAttestations(ctx, subject, tt.atts); !errors.Is(err, tt.want) {
				t.Fatalf("AttachAttestations: %v, want %v", err, tt.want)
			}
		})
	}
	if _, ok := rt.Head(t, attestationTag(subject).String()); ok {
		t.Fatal("a refused call wrote the .att tag")
	}

	t.Run("missing subject", func(t *testing.T) {
		gone := mustDigest(t, r.Ref("app@sha256:"+strings.Repeat("0", 64)))
		if err := c.AttachAttestations(ctx, gone, []Attestation{good}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("AttachAttestations: %v, want ErrNotFound", err)
		}
	})
	t.Run(".att is not an image", func(t *testing.T) {
		other := rt.PushImage(t, r.Ref("app:v2"), rt.ImageSpec{})
		idx := rt.PushIndex(t, r.Ref("app:idx"), rt.ImageSpec{})
		rt.Tag(t, attestationTag(other).String(), idx)
		err := c.AttachAttestations(ctx, other, []Attestation{envelope(t, other, testResultType)})
		if !errors.Is(err, ErrVerifyMismatch) {
			t.Fatalf("AttachAttestations: %v, want ErrVerifyMismatch", err)
		}
		if got := head(t, attestationTag(other).String()); got != idx.DigestStr() {
			t.Fatalf(".att moved to %s", got)
		}
		if _, err := c.Attestations(ctx, other); !errors.Is(err, ErrVerifyMismatch) {
			t.Fatalf("Attestations: %v, want ErrVerifyMismatch", err)
		}
	})
}

// Attaching at once, in one process, keeps every envelope.
func TestAttachAttestationsConcurrently(t *testing.T) {
	t.Parallel()
	r := rt.New(t)
	ctx := ctxT(t)
	subject := rt.PushImage(t, r.Ref("app:v1"), rt.ImageSpec{})
	var want []Attestation
	for range 6 {
		want = append(want, envelope(t, subject, testResultType))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(want))
	for i, a := range want {
		wg.Go(func() { errs[i] = newTestClient(t).AttachAttestations(ctx, subject, []Attestation{a}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got, err := newTestClient(t).Attestations(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d attestations, want %d", len(got), len(want))
	}
	_, layers := attLayers(t, subject)
	if len(layers) != len(want) {
		t.Fatalf(".att has %d layers, want %d", len(layers), len(want))
	}
}

// TestFaultsAttachAttestations: through 5xx, resets and truncated answers,
// an attachment either completes, or fails leaving the .att tag on its
// previous, whole manifest; then, the registry healthy, it completes.
// Nothing is lost: cosign's layer stays throughout.
func TestFaultsAttachAttestations(t *testing.T) {
	t.Parallel()
	reg := rt.New(t)
	direct := newTestClient(t)
	n := 0
	type fixture struct {
		subject name.Digest
		cosign  Attestation
		before  string // the .att digest
		ours    []Attestation
	}
	newFixture := func(t *testing.T) fixture {
		n++
		subject := rt.PushImage(t, reg.Ref(fmt.Sprintf("app%d:v1", n)), rt.ImageSpec{})
		f := fixture{subject: subject, cosign: envelope(t, subject, slsaType)}
		f.before = pushCosignAtt(t, subject, f.cosign).DigestStr()
		f.ours = []Attestation{envelope(t, subject, testResultType), envelope(t, subject, "https://example.com/scan/v1")}
		return f
	}
	// complete checks that everything is there, and that again writes nothing.
	complete := func(t *testing.T, f fixture, p *rt.FaultProxy) {
		t.Helper()
		got, err := direct.Attestations(ctxT(t), f.subject)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameAttestations(got, append([]Attestation{f.cosign}, f.ours...)); err != nil {
			t.Fatal(err)
		}
		if _, err := direct.Verify(ctxT(t), attestationTag(f.subject).String(), VerifyOptions{Full: true}); err != nil {
			t.Fatal(err)
		}
		if refs := inTotoReferrers(t, f.subject); len(refs) != len(f.ours) {
			t.Fatalf("%d referrers, want %d", len(refs), len(f.ours))
		}
		before := writes(p)
		if err := newTestClient(t).AttachAttestations(ctxT(t), onHost(t, f.subject, p.Host()), f.ours); err != nil {
			t.Fatalf("again: %v", err)
		}
		if w := writes(p) - before; w != 0 {
			t.Fatalf("attaching again wrote %d requests", w)
		}
	}

	for i, tt := range transientFaults {
		f := newFixture(t)
		t.Run("transient/"+tt.name, func(t *testing.T) {
			t.Parallel()
			p := rt.NewFaultProxy(t, reg.Host(), int64(i), tt.rules...)
			if err := newTestClient(t).AttachAttestations(ctxT(t), onHost(t, f.subject, p.Host()), f.ours); err != nil {
				t.Fatalf("AttachAttestations: %v", err)
			}
			if p.Stats().Injected == 0 && tt.rules[0].Fault != rt.Latency && tt.rules[0].Path != `/blobs/sha256:` {
				t.Fatal("no fault was injected")
			}
			complete(t, f, p)
		})
	}

	persistent := []struct {
		name  string
		rules []*rt.Rule
		says  string
	}{
		{"blob uploads fail", []*rt.Rule{{Method: http.MethodPost, Path: `/blobs/uploads/`, Fault: rt.Status, Status: 500}}, "blob"},
		{"blob bodies reset", []*rt.Rule{{Method: http.MethodPut, Path: `/blobs/uploads/`, Fault: rt.Reset}}, "blob"},
		{"referrer writes fail", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/sha256:`, Fault: rt.Status}}, "referrer"},
		{"fallback index writes fail", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/sha256-[0-9a-f]{64}$`, Fault: rt.Status, Status: 502}}, "referrer"},
		{".att write fails", []*rt.Rule{{Method: http.MethodPut, Path: `\.att$`, Fault: rt.Status}}, ".att"},
		{".att write resets", []*rt.Rule{{Method: http.MethodPut, Path: `\.att$`, Fault: rt.Reset}}, ".att"},
		{".att reads truncated", []*rt.Rule{{Method: http.MethodGet, Path: `\.att$`, Fault: rt.TruncateBody}}, "EOF"},
		{"config reads truncated", []*rt.Rule{{Method: http.MethodGet, Path: `/blobs/sha256:`, Fault: rt.TruncateBody}}, "config"},
		{"registry gone", []*rt.Rule{{Fault: rt.Reset}}, "EOF"},
	}
	for i, tt := range persistent {
		f := newFixture(t)
		t.Run("persistent/"+tt.name, func(t *testing.T) {
			t.Parallel()
			p := rt.NewFaultProxy(t, reg.Host(), int64(i), tt.rules...)
			err := newTestClient(t).AttachAttestations(ctxT(t), onHost(t, f.subject, p.Host()), f.ours)
			if err == nil || !contains(err.Error(), tt.says) {
				t.Fatalf("AttachAttestations: %v, want an error with %q", err, tt.says)
			}
			if errors.Is(err, ErrVerifyMismatch) || errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("an infrastructure failure reported as a decision: %v", err)
			}
			// The tag is where it was, on a whole image with cosign's layer.
			if got := head(t, attestationTag(f.subject).String()); got != f.before {
				t.Fatalf(".att moved to %s after a failure", got)
			}
			if _, err := direct.Verify(ctxT(t), attestationTag(f.subject).String(), VerifyOptions{Full: true}); err != nil {
				t.Fatal(err)
			}
			if err := p.SetRules(); err != nil {
				t.Fatal(err)
			}
			if err := newTestClient(t).AttachAttestations(ctxT(t), onHost(t, f.subject, p.Host()), f.ours); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
			complete(t, f, p)
		})
	}
}

// A multi-platform image is attested by its index's digest, as cosign
// does.
func TestAttachAttestationsToAnIndex(t *testing.T) {
	t.Parallel()
	for _, reg := range attRegistries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			r := rt.New(t, reg.opts...)
			ctx := ctxT(t)
			c := newTestClient(t)
			subject := rt.PushIndex(t, r.Ref("app:v1"), rt.ImageSpec{}, rt.ImageSpec{})
			a := envelope(t, subject, testResultType)
			if err := c.AttachAttestations(ctx, subject, []Attestation{a}); err != nil {
				t.Fatal(err)
			}
			got, err := c.Attestations(ctx, subject)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameAttestations(got, []Attestation{a}); err != nil {
				t.Fatal(err)
			}
			refs := inTotoReferrers(t, subject)
			if len(refs) != 1 {
				t.Fatalf("%d referrers, want 1", len(refs))
			}
			desc, err := remote.Get(subject.Context().Digest(refs[0].Digest.String()))
			if err != nil {
				t.Fatal(err)
			}
			var m v1.Manifest
			if err := json.Unmarshal(desc.Manifest, &m); err != nil {
				t.Fatal(err)
			}
			if m.Subject == nil || m.Subject.MediaType != types.OCIImageIndex || m.Subject.Digest.String() != subject.DigestStr() {
				t.Fatalf("referrer subject %+v, want the index %s", m.Subject, subject.DigestStr())
			}
		})
	}
}
