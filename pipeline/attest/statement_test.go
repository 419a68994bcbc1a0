package attest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden statements in testdata")

// TestStatementGolden pins the statement bytes: the in-toto field names,
// the order, the absence of whitespace.
func TestStatementGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		make func() ([]byte, error)
	}{
		{"test-result.statement.json", func() ([]byte, error) { return TestResultStatement(testSubject(), testTestResult()) }},
		{"promotion.statement.json", func() ([]byte, error) { return PromotionStatement(testSubject(), testPromotion()) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got, err := tc.make()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := bytes.TrimSuffix(readTestdata(t, tc.file), []byte("\n"))
			if !bytes.Equal(got, want) {
				t.Errorf("statement =\n%s\nwant (testdata/%s, -update rewrites it)\n%s", got, tc.file, want)
			}
			for i := 0; i < 20; i++ {
				again, _ := tc.make()
				if !bytes.Equal(again, got) {
					t.Fatalf("statement bytes differ between calls:\n%s\n%s", got, again)
				}
			}
			if !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

func TestStatementFields(t *testing.T) {
	t.Parallel()
	b, err := TestResultStatement(testSubject(), testTestResult())
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate map[string]json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != "https://in-toto.io/attestation/test-result/v0.1" {
		t.Errorf("_type %q predicateType %q", st.Type, st.PredicateType)
	}
	if len(st.Subject) != 1 || st.Subject[0].Name != "ghcr.io/acme/app" || "sha256:"+st.Subject[0].Digest["sha256"] != testDigest {
		t.Errorf("subject = %+v", st.Subject)
	}
	for _, k := range []string{"result", "configuration", "url", "passedTests", "warnedTests"} {
		if _, ok := st.Predicate[k]; !ok {
			t.Errorf("predicate has no %q: %s", k, b)
		}
	}
	if _, ok := st.Predicate["failedTests"]; ok {
		t.Errorf("empty failedTests written: %s", b)
	}

	// The time is written in UTC to the second, whatever its zone.
	p := testPromotion()
	p.Time = testTime.In(time.FixedZone("X", 5*3600)).Add(300 * time.Millisecond)
	b2, err := PromotionStatement(testSubject(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b2, []byte(`"time":"2025-12-06T18:30:00Z"`)) {
		t.Errorf("time not UTC seconds: %s", b2)
	}
	// Empty lists are lists, an empty baseline is "".
	p = testPromotion()
	p.Baseline, p.Reasons, p.Tags = "", nil, nil
	b3, err := PromotionStatement(testSubject(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"baseline":""`, `"reasons":[]`, `"tags":[]`} {
		if !bytes.Contains(b3, []byte(want)) {
			t.Errorf("%s not in %s", want, b3)
		}
	}
}

func TestStatementErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		subj func(*Subject)
		tr   func(*TestResult)
		p    func(*Promotion)
		want string
	}{
		{name: "no name", subj: func(s *Subject) { s.Name = "" }, want: "subject has no name"},
		{name: "digest without algorithm", subj: func(s *Subject) { s.Digest = strings.TrimPrefix(testDigest, "sha256:") }, want: "is not sha256:<64 lowercase hex>"},
		{name: "upper-case digest", subj: func(s *Subject) { s.Digest = strings.ToUpper(testDigest) }, want: "is not sha256:<64 lowercase hex>"},
		{name: "short digest", subj: func(s *Subject) { s.Digest = testDigest[:20] }, want: "subject digest"},
		{name: "sha512 digest", subj: func(s *Subject) { s.Digest = "sha512:" + strings.Repeat("a", 128) }, want: "subject digest"},
		{name: "result", tr: func(r *TestResult) { r.Result = "passed" }, want: `test result "passed" is not PASSED, WARNED or FAILED`},
		{name: "no configuration", tr: func(r *TestResult) { r.Configuration = nil }, want: "no configuration"},
		{name: "empty resource", tr: func(r *TestResult) { r.Configuration = []Resource{{}} }, want: "configuration 0: at least one of name, URI, or digest"},
		{name: "bad resource digest", tr: func(r *TestResult) { r.Configuration[0].Digest = map[string]string{"sha256": "zz"} }, want: "configuration 0: digest is not valid hex"},
		{name: "relative url", tr: func(r *TestResult) { r.URL = "runs/42" }, want: "not an absolute URL"},
		{name: "empty test name", tr: func(r *TestResult) { r.Failed = []string{""} }, want: "empty test name"},
		{name: "invalid utf-8", tr: func(r *TestResult) { r.Passed = []string{"\xff"} }, want: "making test-result statement"},
		{name: "decision", p: func(p *Promotion) { p.Decision = "PASS" }, want: `promotion decision "PASS" is not a lowercase word`},
		{name: "no decision", p: func(p *Promotion) { p.Decision = "" }, want: "promotion decision"},
		{name: "baseline", p: func(p *Promotion) { p.Baseline = "stable" }, want: `promotion baseline "stable" is not sha256`},
		{name: "no time", p: func(p *Promotion) { p.Time = time.Time{} }, want: "promotion has no time"},
		{name: "empty tag", p: func(p *Promotion) { p.Tags = []string{""} }, want: "empty tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			subj, tr, p := testSubject(), testTestResult(), testPromotion()
			var err error
			if tc.subj != nil {
				tc.subj(&subj)
			}
			switch {
			case tc.p != nil:
				tc.p(&p)
				_, err = PromotionStatement(subj, p)
			case tc.tr != nil:
				tc.tr(&tr)
				_, err = TestResultStatement(subj, tr)
			default:
				if _, err = TestResultStatement(subj, tr); err != nil {
					_, err2 := PromotionStatement(subj, p)
					if err2 == nil || err2.Error() != strings.Replace(err.Error(), "test-result", "promotion", 1) {
						t.Errorf("the two statements disagree: %v / %v", err, err2)
					}
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestAbbrevPair(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b       string
		n          int
		wantA, wtB string
	}{
		{"sha256:ab" + strings.Repeat("0", 62), "sha256:cd" + strings.Repeat("0", 62), 12, "sha256:ab0000000000…", "sha256:cd0000000000…"},
		{"sha256:" + strings.Repeat("0", 20) + "a" + strings.Repeat("0", 43), "sha256:" + strings.Repeat("0", 64), 12, "sha256:" + strings.Repeat("0", 20) + "a…", "sha256:" + strings.Repeat("0", 21) + "…"},
		{"1234567890", "abcdef0123", 7, "1234567…", "abcdef0…"},
		{"abc", "abd", 7, "abc", "abd"},
	} {
		a, b := abbrevPair(tc.a, tc.b, tc.n)
		if a != tc.wantA || b != tc.wtB || a == b {
			t.Errorf("abbrevPair(%q, %q) = %q, %q, want %q, %q", tc.a, tc.b, a, b, tc.wantA, tc.wtB)
		}
	}
}
