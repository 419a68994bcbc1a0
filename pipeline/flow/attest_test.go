package flow

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/attest"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// testKey makes an ECDSA P-256 signer and its public key (PEM, as cosign.pub).
func testKey(t *testing.T) (*attest.Signer, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	s, err := attest.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.PublicKeyPEM()
}

// failAttestations fails every write of an attestation: the .att tag and
// the referrers (an OCI manifest PUT other than the promotion's tags).
type failAttestations struct{ next http.RoundTripper }

func (f failAttestations) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && !strings.Contains(r.URL.Path, "/manifests/sha-") && !strings.Contains(r.URL.Path, "/manifests/stable") {
		return &http.Response{StatusCode: http.StatusInternalServerError, Body: http.NoBody, Request: r, Header: http.Header{}}, nil
	}
	return f.next.RoundTrip(r)
}

// signedPromotion promotes a candidate over a baseline under :stable,
// signed with signer, through a client of opts; it returns the outcome,
// the baseline's digest and the error.
func signedPromotion(t *testing.T, repo string, signer *attest.Signer, opts ...registry.Option) (*Promotion, string, error) {
	t.Helper()
	base := registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{}).DigestStr()
	plan, err := runplan.New(testConfig(repo), gitctx.Context{Revision: rev, RunID: "42"}, time.Date(2026, 2, 4, 0, 0, 0, 0, time.UTC), "")
	if err != nil {
		t.Fatal(err)
	}
	eng := &testEngine{t: t, results: func(role, cell string, attempt int) (ExecResult, error) {
		return ExecResult{Output: "ran", Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": true, "TestB": true})}}, nil
	}}
	client, err := registry.New(append([]registry.Option{registry.WithFastBackoff()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Promote(context.Background(), PromoteOptions{
		Plan: plan, Test: testConfig(repo).Test, Registry: client, Engine: eng, Signer: signer,
		Config: &attest.Resource{Name: "slipway.yaml", Digest: map[string]string{"sha256": strings.Repeat("c", 64)}},
		Now:    time.Date(2026, 2, 4, 1, 0, 0, 0, time.UTC),
	})
	return out, base, err
}

// TestPromoteSigned: a signed promotion attaches a test result and a
// decision, each signed, to the promoted digest, which VerifySigned then
// accepts with the key (and refuses with another key or revision); when
// they cannot be attached, no tag moves.
func TestPromoteSigned(t *testing.T) {
	t.Parallel()
	signer, pub := testKey(t)
	_, otherPub := testKey(t)

	reg := registrytest.New(t)
	repo := reg.Ref("acme/app")
	out, _, err := signedPromotion(t, repo, signer)
	if err != nil {
		t.Fatal(err)
	}
	client, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	stable, ok := registrytest.Head(t, repo+":stable")
	if !ok || !strings.HasSuffix(out.Published, "@"+stable.DigestStr()) {
		t.Fatalf("stable = %v, want the published %s", stable, out.Published)
	}
	if md := out.Markdown(); !strings.Contains(md, "Signed: "+attest.TestResultType+" and "+attest.PromotionType+" attached") {
		t.Errorf("the summary does not say the promotion is signed:\n%s", md)
	}
	v, err := VerifySigned(context.Background(), client, stable, pub, rev)
	if err != nil {
		t.Fatalf("VerifySigned: %v", err)
	}
	if v.TestResult.Result != attest.ResultPassed || strings.Join(v.TestResult.Passed, ",") != "unit › pkg › TestA,unit › pkg › TestB" ||
		v.Promotion.Decision != attest.DecisionPass || v.Promotion.RunID != "42" || v.Promotion.Mode != out.Decision.Mode ||
		strings.Join(v.Promotion.Tags, ",") != "sha-abc1234,stable" || v.Promotion.Baseline != digestOf(out.BaselineDigest) {
		t.Errorf("verified %+v / %+v", v.TestResult, v.Promotion)
	}
	for _, tt := range []struct {
		name     string
		key      []byte
		revision string
		want     error
	}{
		{"another key", otherPub, rev, attest.ErrNoSignedAttestation},
		{"another revision", pub, strings.Repeat("f", 40), attest.ErrRevisionMismatch},
		{"not a key", []byte("no key"), "", attest.ErrKey},
	} {
		if _, err := VerifySigned(context.Background(), client, stable, tt.key, tt.revision); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}

	t.Run("attestations not written", func(t *testing.T) {
		t.Parallel()
		reg := registrytest.New(t)
		repo := reg.Ref("acme/app")
		_, base, err := signedPromotion(t, repo, signer, registry.WithTransport(failAttestations{http.DefaultTransport}))
		if err == nil || !strings.Contains(err.Error(), "attaching the signed attestations") {
			t.Fatalf("error %v, want the attach's", err)
		}
		if d, _ := registrytest.Head(t, repo+":stable"); d.DigestStr() != base {
			t.Errorf("stable moved to %s without attestations", d)
		}
		if _, ok := registrytest.Head(t, repo+":sha-abc1234"); ok {
			t.Errorf("sha-abc1234 was written without attestations")
		}
	})
}

// TestCosignVerifiesSignedPromotion: the real cosign (ci/cosign/build.sh;
// SLIPWAY_COSIGN names the binary) verifies a promotion Promote signed, for
// both predicate types, and refuses it with another key.
func TestCosignVerifiesSignedPromotion(t *testing.T) {
	bin := os.Getenv("SLIPWAY_COSIGN")
	if bin == "" {
		t.Skip("SLIPWAY_COSIGN is not set: build cosign with ci/cosign/build.sh (.ci/run does)")
	}
	t.Parallel()
	signer, pub := testKey(t)
	_, otherPub := testKey(t)
	reg := registrytest.New(t)
	repo := reg.Ref("acme/app")
	if _, _, err := signedPromotion(t, repo, signer); err != nil {
		t.Fatal(err)
	}
	stable, ok := registrytest.Head(t, repo+":stable")
	if !ok {
		t.Fatal("stable did not move")
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyFile, otherFile := write("cosign.pub", pub), write("other.pub", otherPub)
	cosign := func(key, typ string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "verify-attestation", "--key", key, "--type", typ,
			"--insecure-ignore-tlog", "--allow-http-registry", stable.String())
		// Nothing from the network: a private TUF root, and the Rekor key
		// given (cosign otherwise fetches Sigstore's trust root).
		cmd.Env = append(os.Environ(), "HOME="+dir, "DOCKER_CONFIG="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"), "SIGSTORE_REKOR_PUBLIC_KEY="+key)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, typ := range []string{attest.TestResultType, attest.PromotionType} {
		if out, err := cosign(keyFile, typ); err != nil {
			t.Errorf("cosign verify-attestation --type %s: %v\n%s", typ, err, out)
		}
	}
	if out, err := cosign(otherFile, attest.TestResultType); err == nil {
		t.Errorf("cosign verified the promotion with another key:\n%s", out)
	}
}

// TestPromoteImagesSigned: in a run of several images, each image gets its
// own signed attestations before the group's tags move; when one image's
// cannot be written, no image's tag moves.
func TestPromoteImagesSigned(t *testing.T) {
	t.Parallel()
	signer, pub := testKey(t)
	for _, tt := range []struct {
		name  string
		fault bool
	}{{"both signed", false}, {"rpcnode's attestations not written", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t)
			proxy := registrytest.NewFaultProxy(t, strings.TrimSuffix(reg.Ref("x"), "/x"), 1)
			if tt.fault {
				if err := proxy.SetRules(&registrytest.Rule{Method: "PUT", Path: `/acme/rpcnode/manifests/sha256-[0-9a-f]+\.att$`, Fault: registrytest.Status, Status: 500}); err != nil {
					t.Fatal(err)
				}
			}
			cfg := clusterConfig(proxy.Host())
			plan, err := runplan.New(cfg, gitctx.Context{Revision: rev, RunID: "53"}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			bases := make([]string, 2)
			for i, im := range plan.Images {
				bases[i] = registrytest.PushImage(t, im.Repository+":stable", registrytest.ImageSpec{}).DigestStr()
			}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: &clusterEngine{t: t}, Now: time.Now(), Signer: signer})
			if tt.fault {
				if err == nil || !strings.Contains(err.Error(), "image rpcnode: attaching the signed attestations") {
					t.Fatalf("error %v, want rpcnode's attach", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			for i, im := range plan.Images {
				stable, _ := registrytest.Head(t, im.Repository+":stable")
				if tt.fault {
					if stable.DigestStr() != bases[i] {
						t.Errorf("%s: stable moved to %s with rpcnode unsigned", im.Name, stable)
					}
					continue
				}
				if !strings.HasSuffix(out.Images[i].Published, "@"+stable.DigestStr()) {
					t.Errorf("%s: stable %s, want %s", im.Name, stable, out.Images[i].Published)
				}
				if _, err := VerifySigned(context.Background(), client, stable, pub, rev); err != nil {
					t.Errorf("%s: %v", im.Name, err)
				}
			}
		})
	}
}
