package attest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-ci/slipway/pipeline/attest"
)

// Sign a test result and a promotion for an image, then check them as
// `slipway verify --key cosign.pub` does.
func ExampleVerifyPromotion() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	signer, err := attest.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	if err != nil {
		panic(err)
	}

	image := attest.Subject{Name: "ghcr.io/acme/app", Digest: "sha256:c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"}
	results, _ := attest.TestResultStatement(image, attest.TestResult{
		Result:        attest.ResultPassed,
		Configuration: []attest.Resource{{Name: "slipway.yaml", Digest: map[string]string{"sha256": "abababababababababababababababababababababababababababababababab"}}},
		Passed:        []string{"api/health", "api/login"},
	})
	promotion, _ := attest.PromotionStatement(image, attest.Promotion{
		Decision: attest.DecisionPass,
		Mode:     "strict",
		Revision: "abcdef0123456789abcdef0123456789abcdef01",
		Tags:     []string{"stable"},
		Time:     time.Date(2025, 12, 6, 18, 30, 0, 0, time.UTC),
	})
	var envelopes [][]byte
	for _, st := range [][]byte{results, promotion} {
		env, err := signer.Sign(context.Background(), st)
		if err != nil {
			panic(err)
		}
		envelopes = append(envelopes, env)
	}

	// The verifier gets only the public key, as cosign.pub.
	verifier, err := attest.ParsePublicKey(signer.PublicKeyPEM())
	if err != nil {
		panic(err)
	}
	v, err := attest.VerifyPromotion(verifier, envelopes, image.Digest, "abcdef0123456789abcdef0123456789abcdef01")
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Promotion.Decision, v.Promotion.Tags, v.TestResult.Result, v.TestResult.Passed)

	_, err = attest.VerifyPromotion(verifier, envelopes, image.Digest, "1234567890abcdef1234567890abcdef12345678")
	fmt.Println(err, errors.Is(err, attest.ErrNotVerified))
	_, err = attest.VerifyPromotion(verifier, envelopes[:1], image.Digest, "")
	fmt.Println(err)
	// Output:
	// pass [stable] PASSED [api/health api/login]
	// promotion revision is abcdef0…, want 1234567… true
	// promotion predicate missing
}
