package scan

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// fixture parses a real Trivy report from testdata (from Trivy's own
// integration fixtures: alpine 3.9 and 3.10, debian buster).
func fixture(t testing.TB, name string) *Report {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// brief renders findings as "ID package severity".
func brief(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.ID+" "+f.Package+" "+string(f.Severity))
	}
	return out
}

func TestParseFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		artifact string
		want     []string
	}{
		{"alpine-39.json", "testdata/fixtures/images/alpine-39.tar.gz", []string{
			"CVE-2019-14697 musl CRITICAL", "CVE-2019-14697 musl-utils CRITICAL",
			"CVE-2019-1549 libcrypto1.1 MEDIUM", "CVE-2019-1549 libssl1.1 MEDIUM",
			"CVE-2019-1551 libcrypto1.1 MEDIUM", "CVE-2019-1551 libssl1.1 MEDIUM",
		}},
		{"alpine-310.json", "testdata/fixtures/images/alpine-310.tar.gz", []string{
			"CVE-2019-1549 libcrypto1.1 MEDIUM", "CVE-2019-1549 libssl1.1 MEDIUM",
			"CVE-2019-1551 libcrypto1.1 MEDIUM", "CVE-2019-1551 libssl1.1 MEDIUM",
		}},
		{"alpine-39-ignore-cveids.json", "testdata/fixtures/images/alpine-39.tar.gz", []string{
			"CVE-2019-1551 libcrypto1.1 MEDIUM", "CVE-2019-1551 libssl1.1 MEDIUM",
		}},
		{"debian-buster.json", "testdata/fixtures/images/debian-buster.tar.gz", []string{
			"CVE-2019-18224 libidn2-0 CRITICAL", "CVE-2019-18276 bash LOW",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r := fixture(t, tt.file)
			if r.Artifact != tt.artifact {
				t.Errorf("artifact %q, want %q", r.Artifact, tt.artifact)
			}
			if got := brief(r.Findings); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	// Every field a finding keeps, from one real entry.
	deb := fixture(t, "debian-buster.json")
	want := Finding{
		ID: "CVE-2019-18276", Package: "bash", Installed: "5.0-4", Severity: Low, Status: "affected",
		Target: "testdata/fixtures/images/debian-buster.tar.gz (debian 10.1)",
		PURL:   "pkg:deb/debian/bash@5.0-4?arch=amd64&distro=debian-10.1",
		Title:  "bash: when effective UID is not equal to its real UID the saved UID is not dropped",
		URL:    "https://avd.aquasec.com/nvd/cve-2019-18276",
	}
	if got := deb.Findings[1]; !reflect.DeepEqual(got, want) {
		t.Errorf("finding\n got %+v\nwant %+v", got, want)
	}
	if !deb.Findings[1].Unfixed() || deb.Findings[0].Unfixed() {
		t.Error("Unfixed: bash has no fix, libidn2-0 has one")
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	vuln := func(fields string) string {
		return `{"SchemaVersion": 2, "ArtifactName": "app", "Results": [{"Target": "app (alpine 3.20)", "Vulnerabilities": [{` + fields + `}]}]}`
	}
	tests := []struct {
		name, doc string
		want      []string // brief of the findings
		wantErr   string
	}{
		{name: "no Results: nothing to scan", doc: `{"SchemaVersion": 2, "ArtifactName": "scratch"}`, want: []string{}},
		{name: "null Results", doc: `{"SchemaVersion": 2, "Results": null}`, want: []string{}},
		{name: "a result without vulnerabilities", doc: `{"SchemaVersion": 2, "Results": [{"Target": "x", "Class": "os-pkgs"}]}`, want: []string{}},
		{name: "secrets and licenses are not findings", doc: `{"SchemaVersion": 2, "Results": [{"Target": "x", "Class": "secret", "Secrets": [{"RuleID": "aws"}]}]}`, want: []string{}},
		{name: "severity in lower case", doc: vuln(`"VulnerabilityID": "CVE-1", "PkgName": "a", "Severity": "high"`), want: []string{"CVE-1 a HIGH"}},
		{name: "no severity is UNKNOWN", doc: vuln(`"VulnerabilityID": "CVE-1", "PkgName": "a"`), want: []string{"CVE-1 a UNKNOWN"}},
		{name: "package from PkgID", doc: vuln(`"VulnerabilityID": "CVE-1", "PkgID": "b@1.0", "Severity": "LOW"`), want: []string{"CVE-1 b LOW"}},
		{name: "newlines collapse", doc: vuln(`"VulnerabilityID": "CVE-1\n", "PkgName": "a\r\nb", "Severity": "LOW"`), want: []string{"CVE-1 a b LOW"}},
		{name: "unknown fields are fine", doc: `{"SchemaVersion": 2, "Trivy": {"Version": "0.69.3"}, "Results": []}`, want: []string{}},
		{name: "schema version 1", doc: `{"SchemaVersion": 1, "Results": []}`, wantErr: "schema version 1 is not supported (want 2)"},
		{name: "no schema version", doc: `[{"Target": "x"}]`, wantErr: "cannot unmarshal array"},
		{name: "an empty object", doc: `{}`, wantErr: "no SchemaVersion: not a Trivy JSON report"},
		{name: "not JSON", doc: `Total: 3 (CRITICAL: 1)`, wantErr: "reading Trivy report: invalid character"},
		{name: "empty", doc: ``, wantErr: "reading Trivy report: EOF"},
		{name: "two documents", doc: `{"SchemaVersion": 2}{"SchemaVersion": 2}`, wantErr: "data after the JSON document"},
		{name: "no id", doc: vuln(`"PkgName": "a", "Severity": "LOW"`), wantErr: "Results[0].Vulnerabilities[0]: no VulnerabilityID"},
		{name: "no package", doc: vuln(`"VulnerabilityID": "CVE-1", "Severity": "LOW"`), wantErr: "Results[0].Vulnerabilities[0] (CVE-1): no PkgName"},
		{name: "unknown severity", doc: vuln(`"VulnerabilityID": "CVE-1", "PkgName": "a", "Severity": "SEVERE"`), wantErr: `unknown severity "SEVERE"`},
		{name: "wrong type", doc: vuln(`"VulnerabilityID": 7`), wantErr: "cannot unmarshal number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(strings.NewReader(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if r != nil {
					t.Error("a report with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := brief(r.Findings); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	doc := `{"SchemaVersion": 2, "ArtifactName": "` + strings.Repeat("a", 1000) + `"}`
	if _, err := parse(strings.NewReader(doc), int64(len(doc))-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("error %v, want ErrTooLarge", err)
	}
	if _, err := parse(strings.NewReader(doc), int64(len(doc))); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

func TestParseOrderIsStable(t *testing.T) {
	t.Parallel()
	a := `{"SchemaVersion": 2, "Results": [{"Target": "t1", "Vulnerabilities": [{"VulnerabilityID": "CVE-2", "PkgName": "z", "Severity": "LOW"}, {"VulnerabilityID": "CVE-1", "PkgName": "a", "Severity": "HIGH"}]}]}`
	b := `{"SchemaVersion": 2, "Results": [{"Target": "t1", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "a", "Severity": "HIGH"}, {"VulnerabilityID": "CVE-2", "PkgName": "z", "Severity": "LOW"}]}]}`
	ra, err := Parse(strings.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Parse(strings.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ra, rb) {
		t.Errorf("order depends on Trivy's:\n%+v\n%+v", ra, rb)
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	if !Critical.AtLeast(High) || High.AtLeast(Critical) || !Unknown.AtLeast(Unknown) || Low.AtLeast(Medium) {
		t.Error("AtLeast ordering")
	}
	if Severity("SEVERE").Rank() != -1 {
		t.Error("an unknown severity ranks")
	}
	for _, s := range []string{"critical", " High ", "MEDIUM", "low", "Unknown", ""} {
		if _, err := ParseSeverity(s); err != nil {
			t.Errorf("ParseSeverity(%q): %v", s, err)
		}
	}
	if _, err := ParseSeverity("NEGLIGIBLE"); err == nil {
		t.Error("NEGLIGIBLE accepted")
	}
}
