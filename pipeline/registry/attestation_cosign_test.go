package registry

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	rt "github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// ecdsaSigner signs DSSE's pre-authentication encoding as cosign's ECDSA
// keys do: ASN.1 signature over its SHA-256.
type ecdsaSigner struct{ k *ecdsa.PrivateKey }

func (s ecdsaSigner) Sign(_ context.Context, data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return ecdsa.SignASN1(rand.Reader, s.k, h[:])
}

func (s ecdsaSigner) KeyID() (string, error) { return "", nil }

// signedTestResult is a DSSE envelope, signed with k, of an in-toto
// statement with a test-result predicate about subject.
func signedTestResult(t *testing.T, k *ecdsa.PrivateKey, subject name.Digest) []byte {
	t.Helper()
	st, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": subject.Context().String(), "digest": map[string]string{"sha256": strings.TrimPrefix(subject.DigestStr(), "sha256:")}}},
		"predicateType": testResultType,
		"predicate": map[string]any{
			"result":        "PASSED",
			"configuration": []any{map[string]any{"name": "slipway.yaml", "digest": map[string]string{"sha256": strings.Repeat("0", 64)}}},
			"passedTests":   []string{"smoke/health"},
			"warnedTests":   []string{},
			"failedTests":   []string{},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := dsse.NewEnvelopeSigner(ecdsaSigner{k})
	if err != nil {
		t.Fatal(err)
	}
	env, err := es.SignPayload(context.Background(), "application/vnd.in-toto+json", st)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCosignVerifiesAttachedAttestation: the real cosign (SLIPWAY_COSIGN,
// built by ci/cosign/build.sh) verifies what AttachAttestations wrote, and
// refuses it once the payload is changed in the registry.
func TestCosignVerifiesAttachedAttestation(t *testing.T) {
	bin := os.Getenv("SLIPWAY_COSIGN")
	if bin == "" {
		t.Skip("SLIPWAY_COSIGN is not set: build cosign with ci/cosign/build.sh and point SLIPWAY_COSIGN at the path it prints")
	}
	t.Parallel()
	reg := rt.New(t)
	dir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, "cosign.pub")
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T, subject name.Digest) (string, error) {
		cmd := exec.CommandContext(ctxT(t), bin, "verify-attestation", "--key", pub,
			"--type", testResultType, "--insecure-ignore-tlog", "--allow-http-registry", subject.String())
		// Nothing from the network: with SIGSTORE_REKOR_PUBLIC_KEY set,
		// cosign does not fetch the public-good trusted root over TUF (and,
		// the transparency log ignored, never reads the key).
		cmd.Env = append(os.Environ(), "HOME="+dir, "DOCKER_CONFIG="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"),
			"SIGSTORE_REKOR_PUBLIC_KEY="+pub)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Logf("$ %s\n%s", strings.Join(cmd.Args, " "), out.String())
		return out.String(), err
	}

	for i, tt := range []struct {
		name   string
		tamper func(t *testing.T, subject name.Digest, env []byte)
	}{
		{"payload rewritten", func(t *testing.T, subject name.Digest, env []byte) {
			// Someone with push rights replaces the .att image with one
			// whose statement says FAILED, the signature kept.
			var e dsse.Envelope
			if err := json.Unmarshal(env, &e); err != nil {
				t.Fatal(err)
			}
			st, err := base64.StdEncoding.DecodeString(e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			e.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(st, []byte(`"PASSED"`), []byte(`"FAILED"`), 1))
			forged, _ := json.Marshal(e)
			pushCosignAtt(t, subject, Attestation{PredicateType: testResultType, Envelope: forged})
		}},
		{"envelope corrupted in storage", func(t *testing.T, subject name.Digest, env []byte) {
			reg.CorruptBlob(t, descriptorOf(env, "").Digest, rt.FlipByte)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			subject := rt.PushImage(t, reg.Ref(fmt.Sprintf("app:v%d", i)), rt.ImageSpec{})
			env := signedTestResult(t, k, subject)
			c := newTestClient(t)
			if err := c.AttachAttestations(ctxT(t), subject, []Attestation{{PredicateType: testResultType, Envelope: env}}); err != nil {
				t.Fatal(err)
			}
			out, err := verify(t, subject)
			if err != nil {
				t.Fatalf("cosign refused what AttachAttestations wrote: %v", err)
			}
			if !strings.Contains(out, `"payloadType":"application/vnd.in-toto+json"`) || !strings.Contains(out, "verified against the specified public key") {
				t.Fatalf("cosign's output does not show the verified envelope")
			}
			tt.tamper(t, subject, env)
			if _, err := verify(t, subject); err == nil {
				t.Fatal("cosign verified a tampered attestation")
			}
		})
	}
}
