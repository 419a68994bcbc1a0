package scan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
)

var now = time.Date(2026, 2, 4, 12, 0, 0, 0, time.UTC)

// rep builds a report from "ID package SEVERITY [fixed]" lines; a fourth
// field "-" (or none) means no fix.
func rep(lines ...string) *Report {
	r := &Report{Artifact: "img", Findings: []Finding{}}
	for _, l := range lines {
		f := strings.Fields(l)
		fd := Finding{ID: f[0], Package: f[1], Installed: "1.0", Severity: Severity(f[2]), Status: "affected", Target: "img (alpine 3.20)"}
		if len(f) > 3 && f[3] != "-" {
			fd.Fixed, fd.Status = f[3], "fixed"
		}
		if len(f) > 4 {
			fd.PkgPath = f[4]
		}
		r.Findings = append(r.Findings, fd)
	}
	sortFindings(r.Findings)
	return r
}

func policy(mode string, threshold Severity, opts ...func(*Policy)) Policy {
	p := Policy{Mode: mode, Threshold: threshold, Now: now}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func ignoring(doc string) func(*Policy) {
	return func(p *Policy) {
		l, err := ParseIgnore(".trivyignore.yaml", strings.NewReader(doc))
		if err != nil {
			panic(err)
		}
		p.Ignore = l
	}
}

func ignoreUnfixed(p *Policy) { p.IgnoreUnfixed = true }

// summary renders a comparison as lists of "ID package" for the table.
type summary struct {
	New, Known, Fixed, Ignored, Expired []string
	Unfixed, Below                      int
	Pass                                bool
}

func summarize(c *Comparison) summary {
	ids := func(fs []Finding) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.ID+" "+f.Package)
		}
		return out
	}
	s := summary{New: ids(c.New), Known: ids(c.Known), Fixed: ids(c.Fixed), Ignored: []string{}, Expired: []string{},
		Unfixed: c.Unfixed, Below: c.Below, Pass: c.Pass()}
	for _, i := range c.Ignored {
		s.Ignored = append(s.Ignored, i.ID+" "+i.Package)
	}
	for _, e := range c.Expired {
		s.Expired = append(s.Expired, fmt.Sprintf("%s %v", e.Subject(), e.Findings))
	}
	return s
}

func TestCompare(t *testing.T) {
	t.Parallel()
	noNew, strict := config.ScanNoNew, config.ScanStrict
	tests := []struct {
		name       string
		p          Policy
		cand, base *Report
		want       summary
	}{
		{
			name: "threshold: only HIGH and above count", p: policy(noNew, High),
			cand: rep("CVE-1 a CRITICAL 2", "CVE-2 b HIGH 2", "CVE-3 c MEDIUM 2", "CVE-4 d LOW", "CVE-5 e UNKNOWN"), base: rep(),
			want: summary{New: []string{"CVE-1 a", "CVE-2 b"}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Below: 3},
		},
		{
			name: "threshold: LOW counts everything above UNKNOWN", p: policy(noNew, Low),
			cand: rep("CVE-3 c MEDIUM 2", "CVE-4 d LOW", "CVE-5 e UNKNOWN"), base: rep(),
			want: summary{New: []string{"CVE-3 c", "CVE-4 d"}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Below: 1},
		},
		{
			name: "no-new: in both is known and allowed", p: policy(noNew, High),
			cand: rep("CVE-1 a CRITICAL 2"), base: rep("CVE-1 a CRITICAL 2"),
			want: summary{New: []string{}, Known: []string{"CVE-1 a"}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Pass: true},
		},
		{
			name: "strict: known blocks", p: policy(strict, High),
			cand: rep("CVE-1 a CRITICAL 2"), base: rep("CVE-1 a CRITICAL 2"),
			want: summary{New: []string{}, Known: []string{"CVE-1 a"}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}},
		},
		{
			name: "a new version still vulnerable is the same finding", p: policy(noNew, High),
			cand: rep("CVE-1 a HIGH 3"), base: rep("CVE-1 a HIGH 2"),
			want: summary{New: []string{}, Known: []string{"CVE-1 a"}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Pass: true},
		},
		{
			name: "known even when the baseline had it below the threshold", p: policy(noNew, High),
			cand: rep("CVE-1 a HIGH 2"), base: rep("CVE-1 a MEDIUM 2"),
			want: summary{New: []string{}, Known: []string{"CVE-1 a"}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Pass: true},
		},
		{
			name: "the same CVE in another package is new", p: policy(noNew, High),
			cand: rep("CVE-1 a HIGH 2", "CVE-1 b HIGH 2"), base: rep("CVE-1 a HIGH 2"),
			want: summary{New: []string{"CVE-1 b"}, Known: []string{"CVE-1 a"}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}},
		},
		{
			name: "gone from the candidate is fixed", p: policy(noNew, High),
			cand: rep("CVE-3 c MEDIUM"), base: rep("CVE-1 a CRITICAL 2", "CVE-3 c MEDIUM"),
			want: summary{New: []string{}, Known: []string{}, Fixed: []string{"CVE-1 a"}, Ignored: []string{}, Expired: []string{}, Below: 1, Pass: true},
		},
		{
			name: "still there below the threshold is not fixed", p: policy(noNew, High),
			cand: rep("CVE-1 a MEDIUM 2"), base: rep("CVE-1 a HIGH 2"),
			want: summary{New: []string{}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Below: 1, Pass: true},
		},
		{
			name: "ignore without expiry", p: policy(noNew, High, ignoring("vulnerabilities:\n  - id: CVE-1\n    statement: not reachable\n")),
			cand: rep("CVE-1 a CRITICAL 2", "CVE-1 b HIGH"), base: rep(),
			want: summary{New: []string{}, Known: []string{}, Fixed: []string{}, Ignored: []string{"CVE-1 a", "CVE-1 b"}, Expired: []string{}, Pass: true},
		},
		{
			name: "ignore with a future expiry", p: policy(noNew, High, ignoring("vulnerabilities:\n  - id: CVE-1\n    expired_at: 2026-03-01\n")),
			cand: rep("CVE-1 a CRITICAL 2"), base: rep(),
			want: summary{New: []string{}, Known: []string{}, Fixed: []string{}, Ignored: []string{"CVE-1 a"}, Expired: []string{}, Pass: true},
		},
		{
			name: "an expired ignore no longer ignores, and is reported", p: policy(noNew, High, ignoring("vulnerabilities:\n  - id: CVE-1\n    expired_at: 2026-01-01\n  - id: CVE-9\n    expired_at: 2025-01-01\n")),
			cand: rep("CVE-1 a CRITICAL 2", "CVE-1 b LOW"), base: rep(),
			want: summary{New: []string{"CVE-1 a"}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{"CVE-1 [CVE-1 a CVE-1 b]", "CVE-9 []"}, Below: 1},
		},
		{
			name: "an ignore scoped by path covers only that place", p: policy(noNew, High, ignoring("vulnerabilities:\n  - id: CVE-1\n    paths: [\"vendor/**\"]\n")),
			cand: rep("CVE-1 a HIGH 2 vendor/a/go.mod", "CVE-1 b HIGH 2 app/b/go.mod"), base: rep(),
			want: summary{New: []string{"CVE-1 b"}, Known: []string{}, Fixed: []string{}, Ignored: []string{"CVE-1 a"}, Expired: []string{}},
		},
		{
			name: "a key counted in one place and ignored in another counts", p: policy(noNew, High, ignoring("vulnerabilities:\n  - id: CVE-1\n    paths: [\"vendor/**\"]\n")),
			cand: rep("CVE-1 a HIGH 2 vendor/a/go.mod", "CVE-1 a HIGH 2 app/a/go.mod"), base: rep(),
			want: summary{New: []string{"CVE-1 a"}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}},
		},
		{
			name: "ignoreUnfixed leaves out findings without a fix", p: policy(noNew, High, ignoreUnfixed),
			cand: rep("CVE-1 a CRITICAL", "CVE-2 b HIGH 2", "CVE-3 c LOW"), base: rep(),
			want: summary{New: []string{"CVE-2 b"}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Unfixed: 1, Below: 1},
		},
		{
			name: "without ignoreUnfixed they count", p: policy(noNew, High),
			cand: rep("CVE-1 a CRITICAL", "CVE-2 b HIGH 2"), base: rep(),
			want: summary{New: []string{"CVE-1 a", "CVE-2 b"}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}},
		},
		{
			name: "unfixed on the baseline, fixable now: known, not new", p: policy(noNew, High, ignoreUnfixed),
			cand: rep("CVE-1 a HIGH 2"), base: rep("CVE-1 a HIGH"),
			want: summary{New: []string{}, Known: []string{"CVE-1 a"}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Pass: true},
		},
		{
			name: "a report with no Results", p: policy(noNew, High),
			cand: rep(), base: rep("CVE-1 a HIGH 2"),
			want: summary{New: []string{}, Known: []string{}, Fixed: []string{"CVE-1 a"}, Ignored: []string{}, Expired: []string{}, Pass: true},
		},
		{
			name: "no baseline image, no-new: reported, not blocking", p: policy(noNew, High),
			cand: rep("CVE-1 a CRITICAL 2"), base: nil,
			want: summary{New: []string{"CVE-1 a"}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}, Pass: true},
		},
		{
			name: "no baseline image, strict: blocks", p: policy(strict, High),
			cand: rep("CVE-1 a CRITICAL 2"), base: nil,
			want: summary{New: []string{"CVE-1 a"}, Known: []string{}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}},
		},
		{
			name: "an unknown mode fails closed", p: policy("lenient", High),
			cand: rep("CVE-1 a CRITICAL 2"), base: rep("CVE-1 a CRITICAL 2"),
			want: summary{New: []string{}, Known: []string{"CVE-1 a"}, Fixed: []string{}, Ignored: []string{}, Expired: []string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := summarize(Compare(tt.p, tt.cand, tt.base))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestCompareAlpine is the acceptance: alpine 3.10 as the candidate
// against alpine 3.9 passes no-new and reports the two CRITICAL musl
// findings as fixed; swapped, it blocks and names both with their packages.
func TestCompareAlpine(t *testing.T) {
	t.Parallel()
	a39, a310 := fixture(t, "alpine-39.json"), fixture(t, "alpine-310.json")
	p := policy(config.ScanNoNew, High)

	up := Compare(p, a310, a39)
	if !up.Pass() || len(up.New) != 0 || len(up.Known) != 0 {
		t.Errorf("3.10 over 3.9: %+v", summarize(up))
	}
	if got := brief(up.Fixed); !reflect.DeepEqual(got, []string{"CVE-2019-14697 musl CRITICAL", "CVE-2019-14697 musl-utils CRITICAL"}) {
		t.Errorf("fixed %q", got)
	}

	down := Compare(p, a39, a310)
	if down.Pass() {
		t.Fatal("3.9 over 3.10 passes")
	}
	if got := brief(down.Blocking()); !reflect.DeepEqual(got, []string{"CVE-2019-14697 musl CRITICAL", "CVE-2019-14697 musl-utils CRITICAL"}) {
		t.Errorf("blocking %q", got)
	}
	if f := down.New[0]; f.Installed != "1.1.20-r4" || f.Fixed != "1.1.20-r5" {
		t.Errorf("versions: %+v", f)
	}
	if len(down.Fixed) != 0 || down.Below != 4 {
		t.Errorf("down: %+v", summarize(down))
	}

	// Down to MEDIUM, the openssl findings of both are known; strict blocks
	// on them too.
	med := Compare(policy(config.ScanNoNew, Medium), a310, a39)
	if !med.Pass() || len(med.Known) != 4 || len(med.Fixed) != 2 {
		t.Errorf("MEDIUM: %+v", summarize(med))
	}
	if Compare(policy(config.ScanStrict, Medium), a310, a39).Pass() {
		t.Error("strict passes known MEDIUM findings")
	}
}

// TestCompareIgnoreFiles runs both ignore forms of testdata over alpine 3.9
// with no baseline, strict.
func TestCompareIgnoreFiles(t *testing.T) {
	t.Parallel()
	a39 := fixture(t, "alpine-39.json")
	p := policy(config.ScanStrict, Medium)
	p.Ignore = ignoreFile(t, "trivyignore", ".trivyignore")
	got := summarize(Compare(p, a39, nil))
	want := summary{
		New:   []string{"CVE-2019-1551 libcrypto1.1", "CVE-2019-1551 libssl1.1"},
		Known: []string{}, Fixed: []string{},
		Ignored: []string{"CVE-2019-14697 musl", "CVE-2019-14697 musl-utils", "CVE-2019-1549 libcrypto1.1", "CVE-2019-1549 libssl1.1"},
		Expired: []string{"CVE-2019-1551 [CVE-2019-1551 libcrypto1.1 CVE-2019-1551 libssl1.1]"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf(".trivyignore:\n got %+v\nwant %+v", got, want)
	}

	p.Ignore = ignoreFile(t, "trivyignore.yaml", ".trivyignore.yaml")
	c := Compare(p, a39, nil)
	got = summarize(c)
	want = summary{
		New:   []string{"CVE-2019-1551 libcrypto1.1"},
		Known: []string{}, Fixed: []string{},
		Ignored: []string{"CVE-2019-14697 musl", "CVE-2019-1549 libcrypto1.1", "CVE-2019-1549 libssl1.1", "CVE-2019-1551 libssl1.1"},
		Expired: []string{"CVE-2019-1551 [CVE-2019-1551 libcrypto1.1 CVE-2019-1551 libssl1.1]"},
	}
	// musl-utils is not musl: the purl rule does not cover it.
	want.New = append([]string{"CVE-2019-14697 musl-utils"}, want.New...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf(".trivyignore.yaml:\n got %+v\nwant %+v", got, want)
	}
	if r := c.Ignored[0].Rule; r.Statement != "musl is patched downstream" || r.Line != 2 {
		t.Errorf("ignored by %+v", r)
	}
}

// TestCompareDeterministic: report order does not change the comparison,
// and it survives JSON.
func TestCompareDeterministic(t *testing.T) {
	t.Parallel()
	a := rep("CVE-1 a HIGH 2", "CVE-2 b CRITICAL", "CVE-1 a CRITICAL 2 other/place", "CVE-3 c HIGH 1")
	b := rep("CVE-3 c HIGH 1", "CVE-1 a CRITICAL 2 other/place", "CVE-2 b CRITICAL", "CVE-1 a HIGH 2")
	p := policy(config.ScanNoNew, High, ignoring("vulnerabilities:\n  - id: CVE-3\n"))
	ca, cb := Compare(p, a, rep("CVE-2 b HIGH")), Compare(p, b, rep("CVE-2 b HIGH"))
	if !reflect.DeepEqual(ca, cb) {
		t.Errorf("order matters:\n%+v\n%+v", ca, cb)
	}
	if ca.Known[0].Severity != Critical || ca.New[0].Severity != Critical {
		t.Errorf("merged severity: %+v", summarize(ca))
	}
	data, err := json.Marshal(ca)
	if err != nil {
		t.Fatal(err)
	}
	var back Comparison
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	// The parsed purls of ignore rules are not in the JSON.
	for i := range ca.Ignored {
		ca.Ignored[i].Rule.purls = nil
	}
	if !reflect.DeepEqual(&back, ca) {
		t.Errorf("JSON round trip:\n%+v\n%+v", back, *ca)
	}
}

func TestPolicyFrom(t *testing.T) {
	t.Parallel()
	c := config.Default().Scan
	p, err := PolicyFrom(c, nil, now)
	if err != nil || p.Threshold != High || p.Mode != config.ScanNoNew || !p.Now.Equal(now) {
		t.Errorf("default: %+v %v", p, err)
	}
	c.Severity = []string{"LOW", "CRITICAL", "HIGH", "MEDIUM"}
	if p, _ := PolicyFrom(c, nil, now); p.Threshold != Low {
		t.Errorf("threshold %s, want LOW", p.Threshold)
	}
	for _, bad := range []config.Scan{{Mode: config.ScanOff, Severity: []string{"HIGH"}}, {Mode: config.ScanNoNew}, {Mode: config.ScanStrict, Severity: []string{"SEVERE"}}} {
		if _, err := PolicyFrom(bad, nil, now); err == nil {
			t.Errorf("PolicyFrom(%+v) accepted", bad)
		}
	}
}
