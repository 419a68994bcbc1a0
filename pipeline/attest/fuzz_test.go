package attest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzOpen feeds envelopes to Open and VerifyPromotion: they never panic,
// their errors are one line, and what opens is what cosign would read.
func FuzzOpen(f *testing.F) {
	s := cosignSigner(f)
	v := cosignVerifier(f)
	tr := signTestResult(f, s, testSubject(), testTestResult())
	prom := signPromotion(f, s, testSubject(), testPromotion())
	for _, seed := range [][]byte{
		tr, prom,
		editPayload(f, prom, func(st map[string]any) { predicate(st)["decision"] = DecisionBlock }),
		bytes.Replace(prom, []byte(PayloadType), []byte("application/json"), 1),
		bytes.Replace(tr, []byte(`"keyid":""`), []byte(`"keyid":"x"`), 1),
		[]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"MEUCIQ=="}]}`),
		[]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"!!","signatures":[]}`),
		[]byte(`{}`), []byte(`null`), []byte(`[]`), []byte(``), []byte(`{"signatures":[null]}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, env []byte) {
		o, err := v.Open(env)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("Open error is not one line: %q", err)
			}
		} else {
			checkCosignView(t, o)
			_, _ = o.TestResult()
			_, _ = o.Promotion()
		}
		if _, err := VerifyPromotion(v, [][]byte{env, tr, env}, testDigest, testRevision); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("VerifyPromotion error is not one line: %q", err)
		}
	})
}

// FuzzStatement feeds statements to the parser Open uses after the
// signature verified.
func FuzzStatement(f *testing.F) {
	for _, name := range []string{"test-result.statement.json", "promotion.statement.json"} {
		f.Add(readTestdata(f, name))
	}
	for _, seed := range []string{
		`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"` + testDigest[7:] + `"}}],"predicateType":"x","predicate":{}}`,
		`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + testDigest[7:] + `"}}],"predicateType":"` + PromotionType + `","predicate":{"decision":1}}`,
		`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + testDigest[7:] + `"}}],"predicateType":"` + TestResultType + `","predicate":{"result":"PASSED","configuration":[{"annotations":{"a":null}}]}}`,
		`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + testDigest[7:] + `"}}],"PredicateType":"a","predicateType":"b","predicate":{}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		o, err := parseStatement(payload)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		checkCosignView(t, o)
		if tr, err := o.TestResult(); err == nil {
			if checkResult(tr.Result) != nil {
				t.Errorf("TestResult accepted result %q", tr.Result)
			}
		}
		if p, err := o.Promotion(); err == nil && (p.Decision == "" || p.Time.IsZero()) {
			t.Errorf("Promotion accepted %+v", p)
		}
	})
}

// checkCosignView decodes o's statement as cosign's claim verifier and
// policy do (encoding/json) and checks it reads the same type and digests.
func checkCosignView(t *testing.T, o *Opened) {
	t.Helper()
	var st struct {
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(o.Statement, &st); err != nil {
		t.Fatalf("cosign could not read an opened statement: %v", err)
	}
	if st.PredicateType != o.PredicateType || len(st.Subject) != len(o.Subjects) {
		t.Fatalf("cosign reads %+v, Open read %+v", st, o)
	}
	for i := range st.Subject {
		if st.Subject[i].Digest["sha256"] != o.Subjects[i].Digest["sha256"] {
			t.Fatalf("cosign reads subject %d as %v, Open as %v", i, st.Subject[i].Digest, o.Subjects[i].Digest)
		}
	}
	if !json.Valid(o.Predicate) {
		t.Fatalf("predicate is not JSON: %q", o.Predicate)
	}
}

// FuzzParseKey: key parsing never panics, and its errors are one line
// without the password.
func FuzzParseKey(f *testing.F) {
	f.Add(readTestdata(f, "cosign-v2.6.1/cosign.pub"), "")
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"), "")
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n"), "")
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"+base64.StdEncoding.EncodeToString([]byte(`{"kdf":{"name":"scrypt","params":{"N":1,"r":1,"p":1}}}`))+"\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), "secret-pw")
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		_, err := ParsePrivateKey(data, []byte(password))
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("ParsePrivateKey error is not one line: %q", msg)
			}
			// The message may contain the password's text by chance
			// ("KEY"), but not because of the password.
			if password != "" && strings.Contains(msg, password) {
				_, err2 := ParsePrivateKey(data, []byte("\x00"))
				if err2 == nil || !strings.Contains(err2.Error(), password) {
					t.Errorf("ParsePrivateKey error %q holds the password %q", msg, password)
				}
			}
		}
		if _, err := ParsePublicKey(data); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("ParsePublicKey error %q", err)
		}
	})
}
