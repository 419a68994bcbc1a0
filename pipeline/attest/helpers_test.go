package attest

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

const (
	testDigest   = "sha256:c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
	otherDigest  = "sha256:5eed00005eed00005eed00005eed00005eed00005eed00005eed00005eed0000"
	testRevision = "abcdef0123456789abcdef0123456789abcdef01"
	// cosignPassword is the password of testdata/cosign-v2.6.1/cosign.key.
	cosignPassword = "slipway-test-only"
)

var testTime = time.Date(2025, 12, 6, 18, 30, 0, 0, time.UTC)

func testSubject() Subject { return Subject{Name: "ghcr.io/acme/app", Digest: testDigest} }

func testTestResult() TestResult {
	return TestResult{
		Result: ResultPassed,
		Configuration: []Resource{
			{Name: "slipway.yaml", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}},
			{Name: "run", URI: "https://github.com/acme/app/actions/runs/42"},
		},
		URL:    "https://github.com/acme/app/actions/runs/42",
		Passed: []string{"api/health", "api/login"},
		Warned: []string{"ui/slow-page"},
	}
}

func testPromotion() Promotion {
	return Promotion{
		Decision: DecisionPass,
		Mode:     "no-regression",
		Baseline: otherDigest,
		Reasons:  []string{"no regression against the baseline"},
		RunID:    "42",
		Revision: testRevision,
		Tags:     []string{"stable", "sha-abcdef0"},
		Time:     testTime,
	}
}

func mustPEM(t testing.TB, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8PEM(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return mustPEM(t, "PRIVATE KEY", der)
}

func sec1PEM(t testing.TB, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return mustPEM(t, "EC PRIVATE KEY", der)
}

// cosignEncryptedPEM encrypts key as cosign's marshalKeyPair does: PKCS #8,
// go-securesystemslib encrypted.Encrypt, PEM of typ.
func cosignEncryptedPEM(t testing.TB, key any, password, typ string) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encrypted.Encrypt(der, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	return mustPEM(t, typ, enc)
}

func newECDSA(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEd25519(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSigner(t testing.TB, pemBytes []byte, password string) *Signer {
	t.Helper()
	s, err := ParsePrivateKey(pemBytes, []byte(password))
	if err != nil {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	return s
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cosignSigner(t testing.TB) *Signer {
	t.Helper()
	return newSigner(t, readTestdata(t, "cosign-v2.6.1/cosign.key"), cosignPassword)
}

func cosignVerifier(t testing.TB) *Verifier {
	t.Helper()
	v, err := ParsePublicKey(readTestdata(t, "cosign-v2.6.1/cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sign(t testing.TB, s *Signer, statement []byte, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.Sign(context.Background(), statement)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return env
}

func signTestResult(t testing.TB, s *Signer, subj Subject, tr TestResult) []byte {
	t.Helper()
	st, err := TestResultStatement(subj, tr)
	return sign(t, s, st, err)
}

func signPromotion(t testing.TB, s *Signer, subj Subject, p Promotion) []byte {
	t.Helper()
	st, err := PromotionStatement(subj, p)
	return sign(t, s, st, err)
}

// envelopeJSON is a DSSE envelope as a generic JSON object, to tamper with.
type envelopeJSON struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

func decodeEnvelope(t testing.TB, env []byte) envelopeJSON {
	t.Helper()
	var e envelopeJSON
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func encodeEnvelope(t testing.TB, e envelopeJSON) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editPayload rewrites the statement in env without signing it again.
func editPayload(t testing.TB, env []byte, edit func(st map[string]any)) []byte {
	t.Helper()
	e := decodeEnvelope(t, env)
	raw, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	edit(st)
	raw, err = json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	e.Payload = base64.StdEncoding.EncodeToString(raw)
	return encodeEnvelope(t, e)
}

func predicate(st map[string]any) map[string]any { return st["predicate"].(map[string]any) }

func encryptedEncrypt(b []byte, password string) ([]byte, error) {
	return encrypted.Encrypt(b, []byte(password))
}
