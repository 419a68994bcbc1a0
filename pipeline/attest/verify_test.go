package attest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSignVerifyRoundTrip signs both statements with each kind of key and
// verifies them with the public key as cosign.pub holds it.
func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	ec := newECDSA(t, elliptic.P256())
	ed := newEd25519(t)
	for _, tc := range []struct {
		name     string
		key      []byte
		password string
		pub      []byte // nil: the signer's PublicKeyPEM
	}{
		{name: "ecdsa p-256 pkcs8", key: pkcs8PEM(t, ec)},
		{name: "ecdsa p-256 sec1", key: sec1PEM(t, ec)},
		{name: "ed25519 pkcs8", key: pkcs8PEM(t, ed)},
		{name: "cosign v2.6.1 key pair", key: readTestdata(t, "cosign-v2.6.1/cosign.key"), password: cosignPassword, pub: readTestdata(t, "cosign-v2.6.1/cosign.pub")},
		{name: "encrypted ed25519", key: cosignEncryptedPEM(t, ed, "pw", pemSigstore), password: "pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSigner(t, tc.key, tc.password)
			pub := tc.pub
			if pub == nil {
				pub = s.PublicKeyPEM()
			}
			v, err := ParsePublicKey(pub)
			if err != nil {
				t.Fatal(err)
			}
			tr, p := testTestResult(), testPromotion()
			envs := [][]byte{signTestResult(t, s, testSubject(), tr), signPromotion(t, s, testSubject(), p)}
			for _, env := range envs {
				checkEnvelopeShape(t, v, env)
			}
			got, err := VerifyPromotion(v, envs, testDigest, testRevision)
			if err != nil {
				t.Fatalf("VerifyPromotion: %v", err)
			}
			if !reflect.DeepEqual(*got.TestResult, tr) {
				t.Errorf("test result = %+v, want %+v", *got.TestResult, tr)
			}
			if !reflect.DeepEqual(*got.Promotion, p) {
				t.Errorf("promotion = %+v, want %+v", *got.Promotion, p)
			}
			if got.Digest != testDigest || len(got.Skipped) != 0 || got.PromotionStatement.PredicateType != PromotionType {
				t.Errorf("verified = %+v", got)
			}
			// No revision asked for: any.
			if _, err := VerifyPromotion(v, envs, testDigest, ""); err != nil {
				t.Errorf("VerifyPromotion without revision: %v", err)
			}
		})
	}
}

// checkEnvelopeShape checks env is what cosign verifies, independently of
// the DSSE library: the fields, standard base64, an empty keyid, and a
// signature over PAE by hand (ECDSA: ASN.1 DER over SHA-256).
func checkEnvelopeShape(t *testing.T, v *Verifier, env []byte) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(env, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 3 || raw["payloadType"] == nil || raw["payload"] == nil || raw["signatures"] == nil {
		t.Fatalf("envelope fields: %s", env)
	}
	e := decodeEnvelope(t, env)
	if e.PayloadType != "application/vnd.in-toto+json" || len(e.Signatures) != 1 || e.Signatures[0].KeyID != "" {
		t.Fatalf("envelope: %s", env)
	}
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		t.Fatalf("payload not standard base64: %v", err)
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	if err != nil {
		t.Fatalf("sig not standard base64: %v", err)
	}
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(e.PayloadType), e.PayloadType, len(payload), payload)
	if k, ok := v.pub.(*ecdsa.PublicKey); ok {
		h := sha256.Sum256(pae)
		if !ecdsa.VerifyASN1(k, h[:], sig) {
			t.Fatalf("ECDSA signature is not ASN.1 DER over SHA-256(PAE)")
		}
	} else if err := v.v.VerifySignature(strings.NewReader(string(sig)), strings.NewReader(string(pae))); err != nil {
		t.Fatalf("signature is not over PAE: %v", err)
	}
}

type fixture struct {
	s, other *Signer
	v        *Verifier
}

func (f fixture) tr(t *testing.T) []byte {
	return signTestResult(t, f.s, testSubject(), testTestResult())
}

func (f fixture) prom(t *testing.T, edit func(*Promotion)) []byte {
	p := testPromotion()
	if edit != nil {
		edit(&p)
	}
	return signPromotion(t, f.s, testSubject(), p)
}

func TestVerifyPromotionRefusals(t *testing.T) {
	t.Parallel()
	f := fixture{
		s:     newSigner(t, pkcs8PEM(t, newECDSA(t, elliptic.P256())), ""),
		other: newSigner(t, pkcs8PEM(t, newECDSA(t, elliptic.P256())), ""),
	}
	f.v = f.s.Verifier()
	otherSubject := Subject{Name: "ghcr.io/acme/app", Digest: otherDigest}
	const short = "sha256:c0ffee00c0ff…"
	for _, tc := range []struct {
		name     string
		envs     func(t *testing.T) [][]byte
		revision string
		want     error  // nil: verified
		msg      string // the whole one-line message
	}{
		{name: "good", envs: func(t *testing.T) [][]byte { return [][]byte{f.tr(t), f.prom(t, nil)} }},
		{name: "good among others", envs: func(t *testing.T) [][]byte {
			return [][]byte{[]byte("junk"), signTestResult(t, f.other, testSubject(), testTestResult()), f.tr(t), f.prom(t, nil)}
		}},
		{name: "extra signature by another key", envs: func(t *testing.T) [][]byte {
			e := decodeEnvelope(t, f.prom(t, nil))
			o := decodeEnvelope(t, signPromotion(t, f.other, testSubject(), testPromotion()))
			e.Signatures = append(o.Signatures, e.Signatures...)
			return [][]byte{f.tr(t), encodeEnvelope(t, e)}
		}},
		{name: "keyid is not checked (as cosign)", envs: func(t *testing.T) [][]byte {
			e := decodeEnvelope(t, f.prom(t, nil))
			e.Signatures[0].KeyID = "some-other-key"
			return [][]byte{f.tr(t), encodeEnvelope(t, e)}
		}},
		{name: "latest pass wins", envs: func(t *testing.T) [][]byte {
			return [][]byte{f.prom(t, func(p *Promotion) { p.Time = p.Time.Add(-time.Hour); p.RunID = "old" }), f.tr(t), f.prom(t, nil),
				f.prom(t, func(p *Promotion) { p.Decision = DecisionBlock; p.Time = p.Time.Add(time.Hour) })}
		}},

		{name: "nothing", envs: func(t *testing.T) [][]byte { return nil },
			want: ErrNoSignedAttestation, msg: "no attestation signed by this key (none found)"},
		{name: "signed by another key", envs: func(t *testing.T) [][]byte {
			return [][]byte{signTestResult(t, f.other, testSubject(), testTestResult()), signPromotion(t, f.other, testSubject(), testPromotion())}
		}, want: ErrNoSignedAttestation, msg: "no attestation signed by this key (2 found: signature did not verify)"},
		{name: "subject digest tampered", envs: func(t *testing.T) [][]byte {
			edit := func(st map[string]any) {
				st["subject"].([]any)[0].(map[string]any)["digest"].(map[string]any)["sha256"] = otherDigest[7:]
			}
			return [][]byte{editPayload(t, f.tr(t), edit), editPayload(t, f.prom(t, nil), edit)}
		}, want: ErrNoSignedAttestation, msg: "no attestation signed by this key (2 found: signature did not verify)"},
		{name: "test name tampered", envs: func(t *testing.T) [][]byte {
			return [][]byte{editPayload(t, f.tr(t), func(st map[string]any) { predicate(st)["passedTests"].([]any)[0] = "api/other" }), f.prom(t, nil)}
		}, want: ErrPredicateMissing, msg: "test-result predicate missing (1 skipped: signature did not verify)"},
		{name: "failed test removed", envs: func(t *testing.T) [][]byte {
			env := signTestResult(t, f.s, testSubject(), TestResult{Result: ResultFailed, Configuration: testTestResult().Configuration, Failed: []string{"x"}})
			return [][]byte{editPayload(t, env, func(st map[string]any) { delete(predicate(st), "failedTests") }), f.prom(t, nil)}
		}, want: ErrPredicateMissing, msg: "test-result predicate missing (1 skipped: signature did not verify)"},
		{name: "result tampered", envs: func(t *testing.T) [][]byte {
			return [][]byte{editPayload(t, f.tr(t), func(st map[string]any) { predicate(st)["result"] = ResultFailed }), f.prom(t, nil)}
		}, want: ErrPredicateMissing, msg: "test-result predicate missing (1 skipped: signature did not verify)"},
		{name: "decision tampered to pass", envs: func(t *testing.T) [][]byte {
			blocked := f.prom(t, func(p *Promotion) { p.Decision = DecisionBlock })
			return [][]byte{f.tr(t), editPayload(t, blocked, func(st map[string]any) { predicate(st)["decision"] = DecisionPass })}
		}, want: ErrPredicateMissing, msg: "promotion predicate missing (1 skipped: signature did not verify)"},
		{name: "predicate type tampered", envs: func(t *testing.T) [][]byte {
			return [][]byte{editPayload(t, f.prom(t, nil), func(st map[string]any) { st["predicateType"] = TestResultType }), f.prom(t, nil)}
		}, want: ErrPredicateMissing, msg: "test-result predicate missing (1 skipped: signature did not verify)"},
		{name: "signature bytes", envs: func(t *testing.T) [][]byte {
			e := decodeEnvelope(t, f.prom(t, nil))
			sig, _ := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
			sig[len(sig)-1] ^= 1
			e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(sig)
			return [][]byte{f.tr(t), encodeEnvelope(t, e)}
		}, want: ErrPredicateMissing, msg: "promotion predicate missing (1 skipped: signature did not verify)"},
		{name: "signature not base64", envs: func(t *testing.T) [][]byte {
			e := decodeEnvelope(t, f.prom(t, nil))
			e.Signatures[0].Sig = "!!"
			return [][]byte{f.tr(t), encodeEnvelope(t, e)}
		}, want: ErrPredicateMissing, msg: "promotion predicate missing (1 skipped: signature did not verify)"},
		{name: "no signatures", envs: func(t *testing.T) [][]byte {
			e := decodeEnvelope(t, f.prom(t, nil))
			e.Signatures = nil
			return [][]byte{f.tr(t), encodeEnvelope(t, e)}
		}, want: ErrPredicateMissing, msg: "promotion predicate missing (1 skipped: malformed envelope: no signatures)"},
		{name: "payloadType", envs: func(t *testing.T) [][]byte {
			e := decodeEnvelope(t, f.prom(t, nil))
			e.PayloadType = "application/json"
			return [][]byte{f.tr(t), encodeEnvelope(t, e)}
		}, want: ErrPredicateMissing, msg: `promotion predicate missing (1 skipped: wrong payloadType: payloadType "application/json" is not application/vnd.in-toto+json)`},
		{name: "url-safe base64 payload", envs: func(t *testing.T) [][]byte {
			// The signature is over the decoded payload, so it still
			// verifies; cosign reads the statement as standard base64.
			env := signTestResult(t, f.s, testSubject(), urlSafeResult(t))
			e := decodeEnvelope(t, env)
			raw, _ := base64.StdEncoding.DecodeString(e.Payload)
			e.Payload = base64.URLEncoding.EncodeToString(raw)
			return [][]byte{encodeEnvelope(t, e), f.prom(t, nil)}
		}, want: ErrPredicateMissing, msg: "test-result predicate missing (1 skipped: malformed envelope: payload is not standard base64)"},
		{name: "not an envelope", envs: func(t *testing.T) [][]byte { return [][]byte{f.tr(t), []byte(`["x"]`)} },
			want: ErrPredicateMissing, msg: "promotion predicate missing (1 skipped: malformed envelope: not DSSE JSON: json: cannot unmarshal array into Go value of type dsse.Envelope)"},
		{name: "too large", envs: func(t *testing.T) [][]byte {
			big := append(f.prom(t, nil), make([]byte, MaxEnvelopeSize)...)
			return [][]byte{f.tr(t), big}
		}, want: ErrPredicateMissing, msg: fmt.Sprintf("promotion predicate missing (1 skipped: envelope larger than 4 MiB (%d bytes))", len(f.prom(t, nil))+MaxEnvelopeSize)},
		{name: "decision block", envs: func(t *testing.T) [][]byte {
			return [][]byte{f.tr(t), f.prom(t, func(p *Promotion) { p.Decision = DecisionBlock; p.Tags = nil })}
		}, want: ErrDecisionNotPass, msg: `promotion decision is "block", not pass`},
		{name: "latest refusal reported", envs: func(t *testing.T) [][]byte {
			return [][]byte{f.tr(t), f.prom(t, func(p *Promotion) { p.Revision = "1234567890" }),
				f.prom(t, func(p *Promotion) { p.Decision = DecisionBlock; p.Time = p.Time.Add(time.Minute) })}
		}, revision: testRevision, want: ErrDecisionNotPass, msg: `promotion decision is "block", not pass`},
		{name: "revision mismatch", envs: func(t *testing.T) [][]byte {
			return [][]byte{f.tr(t), f.prom(t, func(p *Promotion) { p.Revision = "1234567890abcdef" })}
		}, revision: testRevision, want: ErrRevisionMismatch, msg: "promotion revision is 1234567…, want abcdef0…"},
		{name: "no revision recorded", envs: func(t *testing.T) [][]byte {
			return [][]byte{f.tr(t), f.prom(t, func(p *Promotion) { p.Revision = "" })}
		}, revision: "abcdef0", want: ErrRevisionMismatch, msg: "promotion records no revision, want abcdef0"},
		{name: "subject is another image", envs: func(t *testing.T) [][]byte {
			return [][]byte{signTestResult(t, f.s, otherSubject, testTestResult()), signPromotion(t, f.s, otherSubject, testPromotion())}
		}, want: ErrSubjectMismatch, msg: "promotion attestation subject sha256:5eed00005eed… is not " + short},
		{name: "test result about another image", envs: func(t *testing.T) [][]byte {
			return [][]byte{signTestResult(t, f.s, otherSubject, testTestResult()), f.prom(t, nil)}
		}, want: ErrSubjectMismatch, msg: "test-result attestation subject sha256:5eed00005eed… is not " + short},
		{name: "missing test result", envs: func(t *testing.T) [][]byte { return [][]byte{f.prom(t, nil)} },
			want: ErrPredicateMissing, msg: "test-result predicate missing"},
		{name: "missing promotion", envs: func(t *testing.T) [][]byte { return [][]byte{f.tr(t)} },
			want: ErrPredicateMissing, msg: "promotion predicate missing"},
		{name: "wrong predicate type", envs: func(t *testing.T) [][]byte {
			return [][]byte{signStatement(t, f.s, "https://slsa.dev/provenance/v1", `{"buildDefinition":{}}`), f.prom(t, nil)}
		}, want: ErrPredicateMissing, msg: "test-result predicate missing (1 skipped: predicate type https://slsa.dev/provenance/v1)"},
		{name: "promotion predicate unreadable", envs: func(t *testing.T) [][]byte {
			return [][]byte{f.tr(t), signStatement(t, f.s, PromotionType, `{"decision":"pass","time":"yesterday"}`)}
		}, want: ErrPredicate, msg: "invalid predicate: promotion: no mode"},
		{name: "promotion time unreadable", envs: func(t *testing.T) [][]byte {
			return [][]byte{f.tr(t), signStatement(t, f.s, PromotionType, `{"decision":"pass","mode":"","baseline":"","reasons":[],"runId":"","revision":"","tags":[],"time":"yesterday"}`)}
		}, want: ErrPredicate, msg: `invalid predicate: promotion: time "yesterday" is not RFC 3339`},
		{name: "test-result predicate unreadable", envs: func(t *testing.T) [][]byte {
			return [][]byte{signStatement(t, f.s, TestResultType, `{"result":"GREEN"}`), f.prom(t, nil)}
		}, want: ErrPredicate, msg: `invalid predicate: test result "GREEN" is not PASSED, WARNED or FAILED`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := VerifyPromotion(f.v, tc.envs(t), testDigest, tc.revision)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("VerifyPromotion: %v", err)
				}
				if got.Promotion.Decision != DecisionPass || got.Promotion.RunID != "42" || got.TestResult.Result != ResultPassed {
					t.Errorf("verified %+v %+v", got.Promotion, got.TestResult)
				}
				return
			}
			if err == nil {
				t.Fatalf("VerifyPromotion verified, want %v", tc.want)
			}
			if err.Error() != tc.msg {
				t.Errorf("error\n got %s\nwant %s", err, tc.msg)
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrNotVerified) {
				t.Errorf("error %v is not %v and ErrNotVerified", err, tc.want)
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not a one-line *PolicyError", err)
			}
		})
	}
}

func TestVerifyPromotionBadInput(t *testing.T) {
	t.Parallel()
	v := cosignVerifier(t)
	for _, d := range []string{"", "c0ffee", strings.ToUpper(testDigest), testDigest + "0"} {
		if _, err := VerifyPromotion(v, nil, d, ""); err == nil || errors.Is(err, ErrNotVerified) {
			t.Errorf("VerifyPromotion(digest %q) = %v, want an input error", d, err)
		}
	}
	if _, err := VerifyPromotion(nil, nil, testDigest, ""); err == nil || errors.Is(err, ErrNotVerified) {
		t.Errorf("VerifyPromotion(nil verifier) = %v", err)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	s := cosignSigner(t)
	v := cosignVerifier(t)
	env := signPromotion(t, s, testSubject(), testPromotion())
	o, err := v.Open(env)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := PromotionStatement(testSubject(), testPromotion())
	if string(o.Statement) != string(want) || o.Type != StatementType || o.PredicateType != PromotionType || !o.HasSubject(testDigest) || o.HasSubject(otherDigest) {
		t.Errorf("Open = %+v", o)
	}
	if _, err := o.TestResult(); !errors.Is(err, ErrPredicate) {
		t.Errorf("TestResult of a promotion: %v", err)
	}
	for _, tc := range []struct {
		name string
		env  []byte
		want error
	}{
		{"statement _type", signRaw(t, s, `{"_type":"https://example.com/Statement","subject":[{"digest":{"sha256":"`+testDigest[7:]+`"}}],"predicateType":"x","predicate":{}}`), ErrStatement},
		{"no subject", signRaw(t, s, `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}`), ErrStatement},
		{"subject without digest", signRaw(t, s, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"x","predicate":{}}`), ErrStatement},
		{"short sha256", signRaw(t, s, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"abcd"}}],"predicateType":"x","predicate":{}}`), ErrStatement},
		{"no predicate", signRaw(t, s, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"`+testDigest[7:]+`"}}],"predicateType":"x"}`), ErrStatement},
		{"duplicate field", signRaw(t, s, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"`+testDigest[7:]+`"}}],"predicateType":"x","predicateType":"y","predicate":{}}`), ErrStatement},
		{"proto field name", signRaw(t, s, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"`+testDigest[7:]+`"}}],"predicate_type":"x","predicate":{}}`), ErrStatement},
		{"case-folded duplicate", signRaw(t, s, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"`+testDigest[7:]+`"}}],"predicateType":"x","PredicateType":"y","predicate":{}}`), ErrStatement},
		{"not json", signRaw(t, s, `hello`), ErrStatement},
		{"other key", signPromotion(t, newSigner(t, pkcs8PEM(t, newEd25519(t)), ""), testSubject(), testPromotion()), ErrSignature},
		{"empty", nil, ErrMalformed},
		{"null", []byte("null"), ErrPayloadType},
	} {
		if _, err := v.Open(tc.env); !errors.Is(err, tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: Open = %v, want %v", tc.name, err, tc.want)
		}
	}
	// Unknown fields are ignored (in-toto's parsing rules), and the older
	// statement type is read.
	o, err = v.Open(signRaw(t, s, `{"_type":"https://in-toto.io/Statement/v0.1","extra":1,"subject":[{"digest":{"sha256":"`+testDigest[7:]+`"}}],"predicateType":"x","predicate":{"a":[1,"b"]}}`))
	if err != nil || o.Type != StatementTypeV01 || string(o.Predicate) != `{"a":[1,"b"]}` {
		t.Errorf("Open = %+v, %v", o, err)
	}
}

// TestSignRefuses checks Sign only signs in-toto statements of sane size.
func TestSignRefuses(t *testing.T) {
	t.Parallel()
	s := newSigner(t, pkcs8PEM(t, newEd25519(t)), "")
	for _, st := range [][]byte{nil, []byte("{}"), []byte(`{"_type":"https://in-toto.io/Statement/v1"}`), make([]byte, MaxEnvelopeSize)} {
		if _, err := s.Sign(context.Background(), st); err == nil {
			t.Errorf("Sign(%.40q) signed", st)
		}
	}
}

// signStatement signs a statement about testSubject with a raw predicate.
func signStatement(t *testing.T, s *Signer, predicateType, predicate string) []byte {
	t.Helper()
	return signRaw(t, s, fmt.Sprintf(`{"_type":%q,"subject":[{"name":"ghcr.io/acme/app","digest":{"sha256":%q}}],"predicateType":%q,"predicate":%s}`,
		StatementType, testDigest[7:], predicateType, predicate))
}

// signRaw signs any payload as an in-toto envelope, bypassing Sign's check.
func signRaw(t *testing.T, s *Signer, payload string) []byte {
	t.Helper()
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(PayloadType), PayloadType, len(payload), payload)
	sig, err := s.sv.SignMessage(strings.NewReader(string(pae)))
	if err != nil {
		t.Fatal(err)
	}
	var e envelopeJSON
	e.PayloadType = PayloadType
	e.Payload = base64.StdEncoding.EncodeToString([]byte(payload))
	e.Signatures = append(e.Signatures, struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}{Sig: base64.StdEncoding.EncodeToString(sig)})
	return encodeEnvelope(t, e)
}

// urlSafeResult is a test result whose statement's base64 differs between
// the standard and URL-safe alphabets.
func urlSafeResult(t *testing.T) TestResult {
	t.Helper()
	tr := testTestResult()
	for i := 0; i < 1000; i++ {
		tr.Passed = []string{fmt.Sprintf("test-%d~?", i)}
		st, err := TestResultStatement(testSubject(), tr)
		if err != nil {
			t.Fatal(err)
		}
		if b := base64.StdEncoding.EncodeToString(st); strings.ContainsAny(b, "+/") {
			return tr
		}
	}
	t.Fatal("no statement with + or / in its base64")
	return tr
}

// The cosign key pair in testdata is what it says.
func TestCosignTestdataKey(t *testing.T) {
	t.Parallel()
	b, _ := pem.Decode(readTestdata(t, "cosign-v2.6.1/cosign.pub"))
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := pub.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("cosign.pub is %T", pub)
	}
	if kb, _ := pem.Decode(readTestdata(t, "cosign-v2.6.1/cosign.key")); kb == nil || kb.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" {
		t.Fatalf("cosign.key is not an ENCRYPTED SIGSTORE PRIVATE KEY")
	}
}
