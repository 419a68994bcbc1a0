package attest

import (
	"context"
	"encoding/base64"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
)

// cosignBinary is a cosign v2.6.1 to check interoperability with:
// $SLIPWAY_COSIGN, or the one the dev kit builds. Tests that need it skip
// when there is none.
func cosignBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs cosign; skipped in -short")
	}
	path := os.Getenv("SLIPWAY_COSIGN")
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skip("no home directory to find cosign in")
		}
		path = filepath.Join(home, ".cache", "slipway-cosign", "bin", "cosign")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
		t.Skipf("no cosign binary at %s (set SLIPWAY_COSIGN)", path)
	}
	out, err := exec.Command(path, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v2.6.1") {
		t.Skipf("%s is not cosign v2.6.1: %v %s", path, err, out)
	}
	return path
}

// runCosign runs cosign offline, its state in a temporary home.
func runCosign(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"HOME=" + home, "TUF_ROOT=" + filepath.Join(home, "tuf"), "PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// testRegistry serves an in-memory registry with one random image, and
// returns the image's repository and digest.
func testRegistry(t *testing.T) (name.Repository, v1.Hash) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/acme/app")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag("latest"), img); err != nil {
		t.Fatal(err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return repo, h
}

// attachAttestations stores envelopes where cosign looks for attestations:
// layers of the image tagged sha256-<hex>.att. cosign refuses a layer
// without the signature annotation, even though an attestation's is empty.
func attachAttestations(t *testing.T, repo name.Repository, h v1.Hash, envelopes ...[]byte) {
	t.Helper()
	img := empty.Image
	for _, env := range envelopes {
		if env == nil {
			continue
		}
		payload, err := base64.StdEncoding.DecodeString(decodeEnvelope(t, env).Payload)
		if err != nil {
			t.Fatal(err)
		}
		st, err := parseStatement(payload)
		if err != nil {
			t.Fatal(err)
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:       static.NewLayer(env, "application/vnd.dsse.envelope.v1+json"),
			Annotations: map[string]string{"predicateType": st.PredicateType, "dev.cosignproject.cosign/signature": ""},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := remote.Write(repo.Tag(h.Algorithm+"-"+h.Hex+".att"), img); err != nil {
		t.Fatal(err)
	}
}

// TestCosignVerifiesEnvelopes has cosign verify-attestation check envelopes
// made here, and refuse tampered ones.
func TestCosignVerifiesEnvelopes(t *testing.T) {
	bin := cosignBinary(t)
	s := cosignSigner(t)
	ed := newSigner(t, pkcs8PEM(t, newEd25519(t)), "")
	for _, tc := range []struct {
		name   string
		signer *Signer
		edit   func(t *testing.T, subj Subject, env []byte) []byte
		want   string // "" = verified
	}{
		{name: "ecdsa, cosign's own key", signer: s},
		{name: "ed25519", signer: ed},
		{name: "tampered result", signer: s, edit: func(t *testing.T, _ Subject, env []byte) []byte {
			return editPayload(t, env, func(st map[string]any) { predicate(st)["result"] = ResultFailed })
		}, want: "accepted signatures do not match threshold"},
		{name: "other subject", signer: s, edit: func(t *testing.T, subj Subject, _ []byte) []byte {
			subj.Digest = otherDigest
			return signTestResult(t, s, subj, testTestResult())
		}, want: "no matching subject digest found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo, h := testRegistry(t)
			subj := Subject{Name: repo.String(), Digest: h.String()}
			env := signTestResult(t, tc.signer, subj, testTestResult())
			if tc.edit != nil {
				env = tc.edit(t, subj, env)
			}
			envs := map[string][]byte{TestResultType: env}
			if tc.want == "" {
				// Both statements side by side, as promotions store them.
				envs[PromotionType] = signPromotion(t, tc.signer, subj, testPromotion())
			}
			attachAttestations(t, repo, h, envs[TestResultType], envs[PromotionType])
			pub := filepath.Join(t.TempDir(), "cosign.pub")
			if err := os.WriteFile(pub, tc.signer.PublicKeyPEM(), 0o644); err != nil {
				t.Fatal(err)
			}
			for typ, env := range envs {
				out, err := runCosign(t, bin, nil, "verify-attestation", "--key", pub, "--type", typ,
					"--insecure-ignore-tlog", repo.Digest(h.String()).String())
				switch {
				case tc.want == "" && err != nil:
					t.Fatalf("cosign verify-attestation --type %s: %v\n%s", typ, err, out)
				case tc.want == "" && !strings.Contains(out, decodeEnvelope(t, env).Payload):
					t.Fatalf("cosign verified --type %s but did not print its envelope:\n%s", typ, out)
				case tc.want != "" && err == nil:
					t.Fatalf("cosign verify-attestation accepted a bad envelope:\n%s", out)
				case tc.want != "" && !strings.Contains(out, tc.want):
					t.Fatalf("cosign refused, but not with %q:\n%s", tc.want, out)
				}
			}
		})
	}
}

// TestOpenCosignAttestation opens an envelope cosign attest made.
func TestOpenCosignAttestation(t *testing.T) {
	bin := cosignBinary(t)
	t.Parallel()
	repo, h := testRegistry(t)
	dir := t.TempDir()
	pred := filepath.Join(dir, "predicate.json")
	if err := os.WriteFile(pred, []byte(`{"result":"PASSED","configuration":[{"name":"slipway.yaml"}],"passedTests":["a","b"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCosign(t, bin, []string{"COSIGN_PASSWORD=" + cosignPassword}, "attest", "--yes",
		"--key", filepath.Join("testdata", "cosign-v2.6.1", "cosign.key"),
		"--type", TestResultType, "--predicate", pred, "--tlog-upload=false",
		repo.Digest(h.String()).String())
	if err != nil {
		t.Fatalf("cosign attest: %v\n%s", err, out)
	}
	img, err := remote.Image(repo.Tag(h.Algorithm + "-" + h.Hex + ".att"))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("attestation image has %d layers, %v", len(layers), err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	env, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cosign attest wrote: %s", env)
	o, err := cosignVerifier(t).Open(env)
	if err != nil {
		t.Fatalf("Open(cosign's envelope): %v", err)
	}
	if !o.HasSubject(h.String()) || o.PredicateType != TestResultType {
		t.Errorf("Open = %+v", o)
	}
	tr, err := o.TestResult()
	if err != nil || tr.Result != ResultPassed || strings.Join(tr.Passed, ",") != "a,b" {
		t.Errorf("TestResult = %+v, %v", tr, err)
	}
}
