package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"dagger/slipway-tests/internal/dagger"
)

// SignedPromotion checks that a promotion signed with --signing-key verifies.
//
// verify --key accepts the promoted digest with the signing key's public
// key (and its revision), and refuses it with another key, with another
// revision, and an image promoted without a key. The key pair is made
// here (ECDSA P-256, PKCS #8 PEM, as cosign reads it).
//
// +check
// +cache="session"
func (t *SlipwayTests) SignedPromotion(ctx context.Context) error {
	s, err := t.newScenario(ctx, "signed")
	if err != nil {
		return err
	}
	priv, pub, err := keyPair()
	if err != nil {
		return err
	}
	_, otherPub, err := keyPair()
	if err != nil {
		return err
	}
	sp := s.slipway("signed", "base", "unit").Promote(dagger.SlipwayPromoteOpts{
		SigningKey: dag.SetSecret(s.ns+"-signing-key", priv),
	})
	p, err := readPromotion(ctx, sp)
	if err != nil {
		return fmt.Errorf("a signed promotion: %w", err)
	}
	attested, err := sp.Attested(ctx)
	if err != nil {
		return err
	}
	want := []string{"https://in-toto.io/attestation/test-result/v0.1", "https://github.com/slipway-ci/slipway/attestation/promotion/v1"}
	if strings.Join(attested, " ") != strings.Join(want, " ") {
		return fmt.Errorf("attested %v, want %v", attested, want)
	}
	if tr, err := sp.TestResult(ctx); err != nil || !strings.Contains(tr, `"result":"PASSED"`) {
		return fmt.Errorf("the promotion's test result %q (%v), want a PASSED predicate", tr, err)
	}
	digest, err := p.expectPublished(s, "signed")
	if err != nil {
		return err
	}
	verify := func(step, ref string, key, revision string) error {
		_, err := s.slipway(step, "base", "unit").Verify(ctx, ref, dagger.SlipwayVerifyOpts{
			Revision: revision, Key: dag.File("cosign.pub", key),
		})
		return err
	}
	ref := repository + "@" + digest
	if err := verify("verify-signed", ref, pub, s.revision("signed")); err != nil {
		return fmt.Errorf("verify --key of the signed promotion: %w", err)
	}
	for _, tt := range []struct {
		what, key, revision, want string
	}{
		{"another key", otherPub, s.revision("signed"), "no attestation signed by this key"},
		{"another revision", pub, s.revision("other"), "revision"},
	} {
		err := verify("verify-"+strings.ReplaceAll(tt.what, " ", "-"), ref, tt.key, tt.revision)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			return fmt.Errorf("verify --key with %s: error %v, want one that says %q", tt.what, err, tt.want)
		}
	}
	unsigned, err := readPromotion(ctx, s.slipway("unsigned", "fixed", "unit").Promote())
	if err != nil {
		return fmt.Errorf("an unsigned promotion: %w", err)
	}
	udigest, err := unsigned.expectPublished(s, "unsigned")
	if err != nil {
		return err
	}
	err = verify("verify-unsigned", repository+"@"+udigest, pub, s.revision("unsigned"))
	if err == nil || !strings.Contains(err.Error(), "no attestation signed by this key") {
		return fmt.Errorf("verify --key of an unsigned promotion: error %v, want it refused", err)
	}
	return nil
}

// keyPair makes an ECDSA P-256 key pair: the private key as PKCS #8 PEM,
// the public key as PKIX PEM (cosign.pub).
func keyPair() (priv, pub string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", "", err
	}
	pder, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})), nil
}
