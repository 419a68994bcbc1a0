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
// revision, and an image promoted without a key. One key pair is made
// here (ECDSA P-256, PKCS #8 PEM); the other is cosign's encrypted key
// (testdata/cosign), with its password.
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
	if err := s.cosignKeyPromotion(ctx); err != nil {
		return err
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

// cosignKeyPromotion signs a promotion with the key cosign generate-key-pair
// wrote (testdata/cosign, encrypted), as the documented recipe does, and
// verifies it with cosign.pub; with a wrong password the promotion fails
// before anything runs, naming --signing-key.
func (s scenario) cosignKeyPromotion(ctx context.Context) error {
	dir := dag.CurrentModule().Source().Directory("testdata/cosign")
	key, err := dir.File("cosign.key").Contents(ctx)
	if err != nil {
		return err
	}
	pub, err := dir.File("cosign.pub").Contents(ctx)
	if err != nil {
		return err
	}
	_, err = s.slipway("cosign-wrong", "base", "unit").Promote(dagger.SlipwayPromoteOpts{
		SigningKey: dag.SetSecret(s.ns+"-cosign-key", key), SigningPassword: dag.SetSecret(s.ns+"-cosign-wrong", "not-the-password"),
	}).Decision(ctx)
	if err == nil || !strings.Contains(err.Error(), "--signing-key") || strings.Contains(err.Error(), "not-the-password") {
		return fmt.Errorf("a promotion with a wrong --signing-password: error %v, want one naming --signing-key, without the password", err)
	}
	p, err := readPromotion(ctx, s.slipway("cosign-signed", "base", "unit").Promote(dagger.SlipwayPromoteOpts{
		SigningKey: dag.SetSecret(s.ns+"-cosign-key", key), SigningPassword: dag.SetSecret(s.ns+"-cosign-password", "slipway-test-only"),
	}))
	if err != nil {
		return fmt.Errorf("a promotion signed with cosign's encrypted key: %w", err)
	}
	digest, err := p.expectPublished(s, "cosign-signed")
	if err != nil {
		return err
	}
	_, err = s.slipway("verify-cosign", "base", "unit").Verify(ctx, repository+"@"+digest, dagger.SlipwayVerifyOpts{
		Revision: s.revision("cosign-signed"), Key: dag.File("cosign.pub", pub),
	})
	if err != nil {
		return fmt.Errorf("verify --key cosign.pub of a promotion signed with cosign.key: %w", err)
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
