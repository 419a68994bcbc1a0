// Package scan is the vulnerability half of the gate: it reads Trivy's JSON
// reports (schema version 2), normalizes their findings, applies an ignore
// list (.trivyignore lines or the YAML form, with expiry dates) and
// compares the candidate with the baseline. Everything here is pure: the
// engine runs Trivy, the gate turns a Comparison into reasons.
package scan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// MaxReportBytes is the largest Trivy report Parse reads. Reports of large
// images with every description are a few megabytes.
const MaxReportBytes = 64 << 20

// SchemaVersion is the Trivy JSON schema this package reads.
const SchemaVersion = 2

// Severity is a Trivy severity.
type Severity string

// Trivy's severities, lowest first.
const (
	Unknown  Severity = "UNKNOWN"
	Low      Severity = "LOW"
	Medium   Severity = "MEDIUM"
	High     Severity = "HIGH"
	Critical Severity = "CRITICAL"
)

var severities = []Severity{Unknown, Low, Medium, High, Critical}

// Rank orders severities: UNKNOWN is 0, CRITICAL 4; -1 for anything else.
func (s Severity) Rank() int { return slices.Index(severities, s) }

// AtLeast reports whether s is at or above t.
func (s Severity) AtLeast(t Severity) bool { return s.Rank() >= t.Rank() }

// ParseSeverity reads a severity name, in any case; "" is UNKNOWN, as
// Trivy reports a vulnerability no source rated.
func ParseSeverity(s string) (Severity, error) {
	if s == "" {
		return Unknown, nil
	}
	v := Severity(strings.ToUpper(strings.TrimSpace(s)))
	if v.Rank() < 0 {
		return "", fmt.Errorf("unknown severity %q (want one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL)", s)
	}
	return v, nil
}

// Finding is one vulnerability of one package, as Trivy reported it.
type Finding struct {
	// ID is the vulnerability id: CVE-2019-14697, GHSA-…, DSA-….
	ID string `json:"id"`
	// Package is the package name (PkgName).
	Package   string `json:"package"`
	Installed string `json:"installed,omitempty"`
	// Fixed is the version that fixes it; "" when no fix exists (yet).
	Fixed    string   `json:"fixed,omitempty"`
	Severity Severity `json:"severity"`
	// Status is Trivy's: fixed, affected, will_not_fix, fix_deferred, …
	Status string `json:"status,omitempty"`
	// Target is the Trivy result it came from: the OS, or a lock file or
	// binary for language packages.
	Target string `json:"target,omitempty"`
	// PkgPath is where a language package was found, "" for OS packages.
	PkgPath string `json:"pkgPath,omitempty"`
	// PURL is the package URL, matched by ignore entries' purls.
	PURL  string `json:"purl,omitempty"`
	Title string `json:"title,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Key identifies a finding across images: the vulnerability and the
// package, not the version (an upgrade that is still vulnerable is the
// same finding) nor the target (the OS name changes with the base image).
func (f Finding) Key() string { return f.ID + "\x00" + f.Package }

// Unfixed reports whether no fixed version is known.
func (f Finding) Unfixed() bool { return f.Fixed == "" }

func (f Finding) String() string {
	s := fmt.Sprintf("%s in %s %s (%s", f.ID, f.Package, f.Installed, f.Severity)
	if f.Fixed != "" {
		s += ", fixed in " + f.Fixed
	} else {
		s += ", no fix yet"
	}
	return s + ")"
}

// Report is a Trivy report reduced to its vulnerabilities.
type Report struct {
	// Artifact is what Trivy scanned (ArtifactName).
	Artifact string `json:"artifact,omitempty"`
	// Findings, one per vulnerability, package and location, in a stable
	// order (by key, then target and path).
	Findings []Finding `json:"findings"`
}

// trivyReport is the part of Trivy's JSON (schema 2) Parse reads.
type trivyReport struct {
	SchemaVersion *int   `json:"SchemaVersion"`
	ArtifactName  string `json:"ArtifactName"`
	Results       []struct {
		Target          string `json:"Target"`
		Vulnerabilities []struct {
			VulnerabilityID string `json:"VulnerabilityID"`
			PkgID           string `json:"PkgID"`
			PkgName         string `json:"PkgName"`
			PkgPath         string `json:"PkgPath"`
			PkgIdentifier   struct {
				PURL string `json:"PURL"`
			} `json:"PkgIdentifier"`
			InstalledVersion string `json:"InstalledVersion"`
			FixedVersion     string `json:"FixedVersion"`
			Status           string `json:"Status"`
			Severity         string `json:"Severity"`
			Title            string `json:"Title"`
			PrimaryURL       string `json:"PrimaryURL"`
		} `json:"Vulnerabilities"`
	} `json:"Results"`
}

// ErrTooLarge is returned for a report over MaxReportBytes.
var ErrTooLarge = errors.New("larger than the limit")

// Parse reads a Trivy JSON report (schema version 2). A report without
// Results (nothing Trivy knows how to scan) has no findings; a
// vulnerability without an id or a package, or with a severity Trivy does
// not have, is an error: a finding nobody can compare must not pass.
func Parse(r io.Reader) (*Report, error) { return parse(r, MaxReportBytes) }

func parse(r io.Reader, limit int64) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading Trivy report: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("reading Trivy report: %w (%d bytes)", ErrTooLarge, limit)
	}
	var tr trivyReport
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&tr); err != nil {
		return nil, fmt.Errorf("reading Trivy report: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("reading Trivy report: data after the JSON document")
	}
	switch {
	case tr.SchemaVersion == nil:
		return nil, errors.New("reading Trivy report: no SchemaVersion: not a Trivy JSON report (trivy --format json)")
	case *tr.SchemaVersion != SchemaVersion:
		return nil, fmt.Errorf("reading Trivy report: schema version %d is not supported (want %d)", *tr.SchemaVersion, SchemaVersion)
	}
	rep := &Report{Artifact: oneLine(tr.ArtifactName), Findings: []Finding{}}
	for i, res := range tr.Results {
		for j, v := range res.Vulnerabilities {
			where := fmt.Sprintf("Results[%d].Vulnerabilities[%d]", i, j)
			f := Finding{
				ID:        oneLine(v.VulnerabilityID),
				Package:   oneLine(v.PkgName),
				Installed: oneLine(v.InstalledVersion),
				Fixed:     oneLine(v.FixedVersion),
				Status:    strings.ToLower(oneLine(v.Status)),
				Target:    oneLine(res.Target),
				PkgPath:   oneLine(v.PkgPath),
				PURL:      oneLine(v.PkgIdentifier.PURL),
				Title:     oneLine(v.Title),
				URL:       oneLine(v.PrimaryURL),
			}
			if f.Package == "" {
				f.Package, _, _ = strings.Cut(oneLine(v.PkgID), "@")
			}
			switch {
			case f.ID == "":
				return nil, fmt.Errorf("reading Trivy report: %s: no VulnerabilityID", where)
			case f.Package == "":
				return nil, fmt.Errorf("reading Trivy report: %s (%s): no PkgName", where, f.ID)
			}
			if f.Severity, err = ParseSeverity(v.Severity); err != nil {
				return nil, fmt.Errorf("reading Trivy report: %s (%s): %w", where, f.ID, err)
			}
			rep.Findings = append(rep.Findings, f)
		}
	}
	sortFindings(rep.Findings)
	return rep, nil
}

// sortFindings orders findings by key, then location, then the rest, so
// that equal inputs give equal outputs whatever Trivy's order.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		for _, c := range [][2]string{
			{a.Key(), b.Key()}, {a.Target, b.Target}, {a.PkgPath, b.PkgPath},
			{a.Installed, b.Installed}, {a.Fixed, b.Fixed}, {string(a.Severity), string(b.Severity)},
		} {
			if n := strings.Compare(c[0], c[1]); n != 0 {
				return n
			}
		}
		return 0
	})
}

// oneLine collapses whitespace (newlines included): report fields end up
// in Markdown tables and one-line messages.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\t\n\v\f\r  ") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
