package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

var scanNow = time.Date(2026, 2, 4, 12, 0, 0, 0, time.UTC)

// trivy reads a real Trivy report from the scan package's testdata.
func trivy(t testing.TB, name string) *scan.Report {
	t.Helper()
	f, err := os.Open("../scan/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := scan.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func scanPolicy(t testing.TB, mode string, ignore string) scan.Policy {
	t.Helper()
	c := config.Default().Scan
	c.Mode = mode
	var l *scan.IgnoreList
	if ignore != "" {
		var err error
		if l, err = scan.ParseIgnore(".trivyignore", strings.NewReader(ignore)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := scan.PolicyFrom(c, l, scanNow)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMergeScans(t *testing.T) {
	t.Parallel()
	goPass := cellSpec{"unit", report.Pass, "gotestsum-pass.xml"}
	noNew, strict := config.ScanNoNew, config.ScanStrict
	a39, a310, deb := trivy(t, "alpine-39.json"), trivy(t, "alpine-310.json"), trivy(t, "debian-buster.json")
	tests := []struct {
		name    string
		cand    *report.Report
		scans   Scans
		pass    bool
		reasons []string
	}{
		{
			name: "alpine 3.10 over 3.9 passes and reports musl fixed",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, noNew, ""), Candidate: a310, Baseline: a39},
			pass:    true,
			reasons: []string{"vuln-fixed CVE-2019-14697 musl", "vuln-fixed CVE-2019-14697 musl-utils"},
		},
		{
			name: "alpine 3.9 over 3.10 blocks on musl",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, noNew, ""), Candidate: a39, Baseline: a310},
			reasons: []string{"!vuln-new CVE-2019-14697 musl", "!vuln-new CVE-2019-14697 musl-utils"},
		},
		{
			name: "known findings pass under no-new",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, noNew, ""), Candidate: a39, Baseline: a39},
			pass:    true,
			reasons: []string{"vuln-known CVE-2019-14697 musl", "vuln-known CVE-2019-14697 musl-utils"},
		},
		{
			name: "known findings block under strict",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, strict, ""), Candidate: a39, Baseline: a39},
			reasons: []string{"!vuln-known CVE-2019-14697 musl", "!vuln-known CVE-2019-14697 musl-utils"},
		},
		{
			name: "no baseline image under no-new: reported, not judged",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, noNew, ""), Candidate: deb},
			pass:    true,
			reasons: []string{"scan-no-baseline", "vuln-new CVE-2019-18224 libidn2-0"},
		},
		{
			name: "no baseline image under strict blocks",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, strict, ""), Candidate: deb},
			reasons: []string{"!vuln-new CVE-2019-18224 libidn2-0", "scan-no-baseline"},
		},
		{
			name: "a failed candidate scan blocks",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, noNew, ""), CandidateErr: errors.New("trivy: exit 1: FATAL db download failed\nmore"), Baseline: a39},
			reasons: []string{"!scan-error"},
		},
		{
			name: "a failed baseline scan judges the candidate strict",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, noNew, ""), Candidate: deb, BaselineErr: errors.New("pull: denied")},
			reasons: []string{"!vuln-new CVE-2019-18224 libidn2-0", "scan-baseline-unusable"},
		},
		{
			name: "ignored, and an expired ignore judged again",
			cand: rep(t, goPass), scans: Scans{Policy: scanPolicy(t, noNew, "CVE-2019-14697 exp:2026-01-01\nCVE-2019-14697 exp:2027-01-01\nCVE-2020-0001 exp:2025-01-01\n"), Candidate: a39, Baseline: a310},
			pass: true,
			reasons: []string{"vuln-ignored CVE-2019-14697 musl", "vuln-ignored CVE-2019-14697 musl-utils",
				"ignore-expired ignore CVE-2019-14697", "ignore-expired ignore CVE-2020-0001"},
		},
		{
			name: "test and scan reasons in one decision",
			cand: rep(t, cellSpec{"unit", report.Fail, "gotestsum-cand.xml"}), scans: Scans{Policy: scanPolicy(t, noNew, "CVE-2019-14697 exp:2026-01-01\n"), Candidate: a39, Baseline: a310},
			reasons: []string{"!vuln-new CVE-2019-14697 musl", "!vuln-new CVE-2019-14697 musl-utils", "!new-failure unit TestLegacyCoupon", "!new-failure unit TestNewTax",
				"!dropped unit TestRemoveItem", "!regression unit TestTotal", "ignore-expired ignore CVE-2019-14697"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := Decide(config.Gate{}, tt.cand, rep(t, goPass))
			d := MergeScans(base, tt.scans)
			if got := short(d.Reasons); !reflect.DeepEqual(got, tt.reasons) {
				t.Errorf("reasons:\n got %q\nwant %q\n%s", got, tt.reasons, strings.Join(reasonLines(d), "\n"))
			}
			if d.Pass != tt.pass || d.Pass != (len(d.Blocking()) == 0) {
				t.Errorf("pass %v, want %v", d.Pass, tt.pass)
			}
			if d.Scan == nil || d.Mode != base.Mode || len(base.Reasons) > len(d.Reasons) {
				t.Errorf("decision %+v", d)
			}
			for _, r := range d.Reasons {
				if r.Message == "" || strings.ContainsAny(r.Message, "\n") {
					t.Errorf("%s: bad message %q", r, r.Message)
				}
			}
		})
	}
}

// TestMergeScansMarkdown: the findings section lists new, known, fixed,
// ignored and expired, with packages and versions; finding reasons stay
// out of the generic lists.
func TestMergeScansMarkdown(t *testing.T) {
	t.Parallel()
	cand := rep(t, cellSpec{"unit", report.Pass, "gotestsum-pass.xml"})
	p := scanPolicy(t, config.ScanNoNew, "CVE-2019-18224 exp:2026-01-01\nCVE-2019-14697\n")
	p.Threshold = scan.Medium
	d := MergeScans(Decide(config.Gate{}, cand, nil), Scans{Policy: p, Candidate: trivy(t, "debian-buster.json"), Baseline: trivy(t, "alpine-39.json")})
	md := d.Markdown()
	order := []string{
		"## ❌ Gate blocked: 1 blocking reason (strict, scan no-new)\n",
		"### Reported\n\n- **no-baseline**",
		"### Vulnerabilities\n\nscan `no-new` · MEDIUM and above · ignore unfixed `false` · candidate `testdata/fixtures/images/debian-buster.tar.gz` · baseline `testdata/fixtures/images/alpine-39.tar.gz`\n\n",
		"1 new · 0 known · 4 fixed · 0 ignored · 1 below MEDIUM\n",
		"#### ❌ New (not on the baseline)\n\n| Vulnerability | Package | Installed | Fixed in | Severity |\n|---|---|---|---|---|\n| [CVE-2019-18224](https://avd.aquasec.com/nvd/cve-2019-18224) | libidn2-0 | 2.0.5-1 | 2.0.5-1+deb10u1 | CRITICAL |\n",
		"#### ✅ Fixed (on the baseline, gone from the candidate)\n",
		"| [CVE-2019-1549](https://avd.aquasec.com/nvd/cve-2019-1549) | libcrypto1.1 | 1.1.1b-r1 | 1.1.1d-r0 | MEDIUM |",
		"#### Expired ignore entries (they no longer ignore)\n\n- `CVE-2019-18224` (.trivyignore:1, expired 2026-01-01): would cover CVE-2019-18224 libidn2-0\n",
	}
	at := 0
	for _, s := range order {
		i := strings.Index(md[at:], s)
		if i < 0 {
			t.Fatalf("Markdown lacks %q after byte %d:\n%s", s, at, md)
		}
		at += i
	}
	if strings.Contains(md, "**vuln-") || strings.Contains(md, "**ignore-expired**") {
		t.Errorf("finding reasons in the generic lists:\n%s", md)
	}
	// The fixed musl findings were ignored on the way: "Ignored" appears
	// only for the candidate.
	if strings.Contains(md, "#### Ignored") {
		t.Errorf("ignored section without candidate findings ignored:\n%s", md)
	}

	// JSON round trip, JUnit names.
	var buf bytes.Buffer
	if err := d.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Decision
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Reasons, d.Reasons) || back.Scan == nil || len(back.Scan.Fixed) != 4 || !strings.Contains(buf.String(), `"finding": "CVE-2019-18224 libidn2-0"`) {
		t.Errorf("JSON:\n%s", buf.String())
	}
	buf.Reset()
	if err := d.WriteJUnit(&buf, cand); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `name="scan › CVE-2019-18224 libidn2-0"`) {
		t.Errorf("JUnit:\n%s", buf.String())
	}
}

func TestMergeScansMarkdownErrorAndIgnored(t *testing.T) {
	t.Parallel()
	cand := rep(t, cellSpec{"unit", report.Pass, "gotestsum-pass.xml"})
	d := MergeScans(Decide(config.Gate{}, cand, nil), Scans{Policy: scanPolicy(t, config.ScanStrict, ""), CandidateErr: errors.New("exec trivy: exit 1: FATAL")})
	if md := d.Markdown(); !strings.Contains(md, "❌ The candidate could not be scanned: exec trivy: exit 1: FATAL") || !strings.Contains(md, "### Blocking\n\n- **scan-error**") || !strings.Contains(md, "scan.mode: off") {
		t.Errorf("error Markdown (the cause and what to do):\n%s", md)
	}
	yaml, err := scan.ParseIgnore(".trivyignore.yaml", strings.NewReader("vulnerabilities:\n  - id: CVE-2019-14697\n    statement: patched | downstream\n    expired_at: 2027-01-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := scanPolicy(t, config.ScanNoNew, "")
	p.Ignore = yaml
	d = MergeScans(Decide(config.Gate{}, cand, nil), Scans{Policy: p, Candidate: trivy(t, "alpine-39.json"), Baseline: trivy(t, "alpine-39.json")})
	md := d.Markdown()
	if !strings.Contains(md, "| Vulnerability | Package | Installed | Fixed in | Severity | Ignored by |") ||
		!strings.Contains(md, `| .trivyignore.yaml:2 (patched \| downstream), until 2027-01-01 |`) {
		t.Errorf("ignored Markdown:\n%s", md)
	}
}
