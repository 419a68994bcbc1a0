package gate

import (
	"fmt"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

// Scans is the vulnerability side of a promotion: both images' Trivy
// reports, or why one is missing.
type Scans struct {
	Policy scan.Policy
	// Candidate is the candidate's report; CandidateErr says why there is
	// none (the scan or its report failed), which blocks.
	Candidate    *scan.Report
	CandidateErr error
	// Baseline is the baseline's report: nil with BaselineErr nil when there
	// is no baseline image, nil with BaselineErr set when its scan failed
	// (the candidate is then judged strict).
	Baseline    *scan.Report
	BaselineErr error
}

// ScanErrorHelp says what to do when Trivy's image or database cannot be
// fetched (an engine without ghcr.io or Docker Hub, a rate limit).
const ScanErrorHelp = "Where the engine cannot fetch Trivy or its database: mirror them (scan.image, scan.dbRepositories), " +
	"scan with a database you give the module (scan.offline: true and --trivy-db), or turn the scan off (scan.mode: off)"

// MergeScans adds the vulnerability comparison to d, a decision on the
// tests: one Decision, one Pass, every reason. The finding reasons
// (vuln-new, vuln-known, vuln-fixed, vuln-ignored, ignore-expired) name
// their finding; the Markdown shows them in its findings section.
func MergeScans(d Decision, s Scans) Decision {
	d.Reasons = append([]Reason(nil), d.Reasons...)
	p := s.Policy
	if s.CandidateErr != nil || s.Candidate == nil {
		msg := "no report"
		if s.CandidateErr != nil {
			msg = firstLine(s.CandidateErr.Error())
		}
		d.Scan = &scan.Comparison{Mode: p.Mode, Threshold: p.Threshold, IgnoreUnfixed: p.IgnoreUnfixed,
			New: []scan.Finding{}, Known: []scan.Finding{}, Fixed: []scan.Finding{}, Ignored: []scan.Ignored{}, Error: msg}
		d.Reasons = append(d.Reasons, Reason{Kind: ScanError, Blocking: true, Message: "the candidate could not be scanned, so nothing proves it brings no vulnerability: " + msg})
		d.finish()
		return d
	}
	if s.BaselineErr != nil {
		p.Mode = config.ScanStrict
		d.Reasons = append(d.Reasons, Reason{Kind: ScanBaselineUnusable,
			Message: "the baseline scan failed (" + firstLine(s.BaselineErr.Error()) + "): no evidence, so every finding of the candidate counts and blocks"})
	}
	c := scan.Compare(p, s.Candidate, s.Baseline)
	d.Scan = c
	if s.Baseline == nil && s.BaselineErr == nil {
		msg := fmt.Sprintf("no baseline image yet: judged strict, %d finding(s) at %s or above block", len(c.New), c.Threshold)
		if !c.NewBlocks() {
			msg = fmt.Sprintf("no baseline image yet: %d finding(s) at %s or above reported, not judged (this image becomes the baseline)", len(c.New), c.Threshold)
		}
		d.Reasons = append(d.Reasons, Reason{Kind: ScanNoBaseline, Message: msg})
	}
	add := func(k Kind, blocking bool, f scan.Finding, msg string) {
		d.Reasons = append(d.Reasons, Reason{Kind: k, Finding: findingName(f), Blocking: blocking, Message: msg})
	}
	for _, f := range c.New {
		what := "not on the baseline"
		if c.NoBaseline {
			what = "no baseline to compare with"
		}
		add(VulnNew, c.NewBlocks(), f, f.String()+": "+what)
	}
	for _, f := range c.Known {
		what := "on the baseline too: allowed under no-new"
		if c.KnownBlocks() {
			what = "on the baseline too: blocks under strict"
		}
		add(VulnKnown, c.KnownBlocks(), f, f.String()+": "+what)
	}
	for _, f := range c.Fixed {
		add(VulnFixed, false, f, f.String()+": on the baseline, gone from the candidate")
	}
	for _, i := range c.Ignored {
		add(VulnIgnored, false, i.Finding, i.Finding.String()+": ignored by "+ruleLine(i.Rule))
	}
	for _, e := range c.Expired {
		msg := "expired " + e.ExpiredAt.UTC().Format(time.DateOnly) + " (" + e.Where() + "): "
		if len(e.Findings) == 0 {
			msg += "matches nothing in the candidate; remove it"
		} else {
			msg += "no longer ignores " + strings.Join(e.Findings, ", ")
		}
		d.Reasons = append(d.Reasons, Reason{Kind: IgnoreExpired, Finding: "ignore " + e.Subject(), Message: msg})
	}
	d.finish()
	return d
}

func findingName(f scan.Finding) string { return f.ID + " " + f.Package }

// ruleLine describes an ignore rule: where, why, until when.
func ruleLine(r scan.IgnoreRule) string {
	s := r.Where()
	if r.Statement != "" {
		s += " (" + r.Statement + ")"
	}
	if !r.ExpiredAt.IsZero() {
		s += ", until " + r.ExpiredAt.UTC().Format(time.DateOnly)
	}
	return s
}

// writeFindings is the Markdown findings section: the comparison's
// settings and counts, then a table per list (new, known, fixed, ignored)
// and the expired ignore rules.
func writeFindings(b *strings.Builder, title string, c *scan.Comparison) {
	b.WriteString("### " + title + "\n\n")
	fmt.Fprintf(b, "scan `%s` · %s and above · ignore unfixed `%t`", c.Mode, c.Threshold, c.IgnoreUnfixed)
	if c.Candidate != "" {
		fmt.Fprintf(b, " · candidate `%s`", mdCode(c.Candidate))
	}
	if c.Baseline != "" {
		fmt.Fprintf(b, " · baseline `%s`", mdCode(c.Baseline))
	}
	b.WriteString("\n\n")
	if c.Error != "" {
		fmt.Fprintf(b, "❌ The candidate could not be scanned: %s\n\n%s.\n\n", mdText(c.Error), ScanErrorHelp)
		return
	}
	fmt.Fprintf(b, "%d new · %d known · %d fixed · %d ignored", len(c.New), len(c.Known), len(c.Fixed), len(c.Ignored))
	if c.Unfixed > 0 {
		fmt.Fprintf(b, " · %d without a fix (not counted)", c.Unfixed)
	}
	fmt.Fprintf(b, " · %d below %s\n\n", c.Below, c.Threshold)

	newTitle := "❌ New (not on the baseline)"
	switch {
	case c.NoBaseline && !c.NewBlocks():
		newTitle = "New (no baseline image yet: reported, not judged)"
	case c.NoBaseline:
		newTitle = "❌ New (no baseline image: strict)"
	}
	table(b, newTitle, c.New, nil)
	knownTitle := "Known (on the baseline too: allowed under no-new)"
	if c.KnownBlocks() {
		knownTitle = "❌ Known (on the baseline too: blocking under strict)"
	}
	table(b, knownTitle, c.Known, nil)
	table(b, "✅ Fixed (on the baseline, gone from the candidate)", c.Fixed, nil)
	if len(c.Ignored) > 0 {
		fs := make([]scan.Finding, len(c.Ignored))
		for i, ig := range c.Ignored {
			fs[i] = ig.Finding
		}
		table(b, "Ignored", fs, func(i int) string { return ruleLine(c.Ignored[i].Rule) })
	}
	if len(c.Expired) > 0 {
		b.WriteString("#### Expired ignore entries (they no longer ignore)\n\n")
		for i, e := range c.Expired {
			if i == mdMaxReasons {
				fmt.Fprintf(b, "- … and %d more (see the JSON decision)\n", len(c.Expired)-i)
				break
			}
			what := "matches nothing in the candidate"
			if len(e.Findings) > 0 {
				what = "would cover " + strings.Join(e.Findings, ", ")
			}
			fmt.Fprintf(b, "- `%s` (%s, expired %s): %s\n", mdCode(e.Subject()), mdText(e.Where()), e.ExpiredAt.UTC().Format(time.DateOnly), mdText(what))
		}
		b.WriteString("\n")
	}
}

// table writes one list of findings; extra, when given, fills a last
// column "Ignored by".
func table(b *strings.Builder, title string, fs []scan.Finding, extra func(int) string) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(b, "#### %s\n\n| Vulnerability | Package | Installed | Fixed in | Severity |", title)
	if extra != nil {
		b.WriteString(" Ignored by |")
	}
	b.WriteString("\n|---|---|---|---|---|")
	if extra != nil {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for i, f := range fs {
		if i == mdMaxReasons {
			fmt.Fprintf(b, "\n… and %d more (see the JSON decision)\n", len(fs)-i)
			break
		}
		id := cell(f.ID)
		if strings.HasPrefix(f.URL, "https://") && !strings.ContainsAny(f.URL, " ()[]<>|`") {
			id = "[" + id + "](" + f.URL + ")"
		}
		fixed := cell(f.Fixed)
		if f.Fixed == "" {
			fixed = "no fix yet"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |", id, cell(f.Package), cell(f.Installed), fixed, f.Severity)
		if extra != nil {
			fmt.Fprintf(b, " %s |", cell(extra(i)))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// cell is text safe in a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(mdText(s), "|", `\|`)
}
