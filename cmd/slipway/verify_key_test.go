package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/attest"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// signed attaches to d a test result and a promotion of decision and
// revision, signed by s.
func signed(t *testing.T, s *attest.Signer, d name.Digest, decision, revision string) {
	t.Helper()
	subject := attest.Subject{Name: d.Context().String(), Digest: d.DigestStr()}
	tr, err := attest.TestResultStatement(subject, attest.TestResult{Result: attest.ResultPassed, Configuration: []attest.Resource{{Name: "slipway.yaml"}}, Passed: []string{"unit › TestA"}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := attest.PromotionStatement(subject, attest.Promotion{Decision: decision, Mode: "strict", Revision: revision, RunID: "7", Tags: []string{"stable"}, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var atts []registry.Attestation
	for typ, st := range map[string][]byte{attest.TestResultType: tr, attest.PromotionType: pr} {
		env, err := s.Sign(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		atts = append(atts, registry.Attestation{PredicateType: typ, Envelope: env})
	}
	c, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AttachAttestations(context.Background(), d, atts); err != nil {
		t.Fatal(err)
	}
}

func newSigner(t *testing.T) *attest.Signer {
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
	return s
}

func TestVerifyKey(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	const sha = "abc12345def67890abcdef0123456789abcdef01"
	labels := map[string]string{registry.RevisionLabel: sha}
	key, other := newSigner(t), newSigner(t)
	good := registrytest.PushImage(t, reg.Ref("app:good"), registrytest.ImageSpec{Labels: labels, Layers: 1})
	signed(t, key, good, attest.DecisionPass, sha)
	blocked := registrytest.PushImage(t, reg.Ref("app:blocked"), registrytest.ImageSpec{Labels: labels, Layers: 2})
	signed(t, key, blocked, attest.DecisionBlock, sha)
	_ = registrytest.PushImage(t, reg.Ref("app:unsigned"), registrytest.ImageSpec{Labels: labels, Layers: 3})
	byOther := registrytest.PushImage(t, reg.Ref("app:other"), registrytest.ImageSpec{Labels: labels, Layers: 4})
	signed(t, other, byOther, attest.DecisionPass, sha)

	dir := t.TempDir()
	pub := filepath.Join(dir, "cosign.pub")
	bad := filepath.Join(dir, "bad.pub")
	for p, b := range map[string][]byte{pub: key.PublicKeyPEM(), bad: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   string
		stderr   string
	}{
		{"signed", []string{"--key", pub, reg.Ref("app:good")}, 0, good.String(), "signed: tests PASSED (1 passed, 0 warned, 0 failed); promotion pass (strict, revision " + sha + ", run 7)"},
		{"signed, its revision", []string{"--key", pub, "--revision", sha, reg.Ref("app:good")}, 0, good.String(), "signed: "},
		{"decision block", []string{"--key", pub, reg.Ref("app:blocked")}, 1, "", `promotion decision is "block", not pass`},
		{"unsigned", []string{"--key", pub, reg.Ref("app:unsigned")}, 1, "", "no attestation signed by this key"},
		{"signed by another key", []string{"--key", pub, reg.Ref("app:other")}, 1, "", "no attestation signed by this key"},
		{"not a key", []string{"--key", bad, reg.Ref("app:good")}, 2, "", "--key " + bad},
		{"no key file", []string{"--key", filepath.Join(dir, "none.pub"), reg.Ref("app:good")}, 2, "", "--key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := slipway(t, nil, append([]string{"verify"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tt.wantCode, tt.stdout, tt.stderr)
			}
			if code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("a failure takes one line, got:\n%s", stderr)
			}
		})
	}
}
