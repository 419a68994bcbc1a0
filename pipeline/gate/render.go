package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/slipway-ci/slipway/pipeline/report"
)

// mdMaxReasons bounds each reason list of the Markdown summary.
const mdMaxReasons = 200

// WriteJSON writes d as indented JSON.
func (d Decision) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("writing decision JSON: %w", err)
	}
	return nil
}

// Headline is the decision in one Markdown heading.
func (d Decision) Headline() string {
	against := "strict"
	if d.Baseline != nil {
		against = "no regression vs the baseline"
	}
	switch {
	case d.Scan != nil:
		against += ", scan " + d.Scan.Mode
	case len(d.Scans) > 0:
		against += ", scan " + d.Scans[0].Scan.Mode
	}
	if d.Pass {
		return fmt.Sprintf("## ✅ Gate passed (%s)", against)
	}
	n := len(d.Blocking())
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("## ❌ Gate blocked: %d blocking reason%s (%s)", n, s, against)
}

// Markdown returns the decision's own part of a summary: the headline, what
// was compared, then the blocking reasons and the reported ones.
func (d Decision) Markdown() string {
	var b strings.Builder
	b.WriteString(d.Headline() + "\n\n")
	fmt.Fprintf(&b, "mode `%s` · flaky `%s` · allow dropped `%t` · %d tests ran\n\n", d.Mode, d.Flaky, d.AllowDropped, d.Tests)
	fmt.Fprintf(&b, "- candidate: %s\n", imageLine(&d.Candidate))
	if d.Baseline != nil {
		fmt.Fprintf(&b, "- baseline: %s\n", imageLine(d.Baseline))
	}
	b.WriteString("\n")
	var blocking, reported []Reason
	for _, r := range d.Reasons {
		if r.Finding != "" {
			continue // in the findings section
		}
		if r.Blocking {
			blocking = append(blocking, r)
		} else {
			reported = append(reported, r)
		}
	}
	list := func(title string, rs []Reason) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(&b, "### %s\n\n", title)
		for i, r := range rs {
			if i == mdMaxReasons {
				fmt.Fprintf(&b, "- … and %d more (see the JSON decision)\n", len(rs)-i)
				break
			}
			fmt.Fprintf(&b, "- **%s**%s: %s\n", r.Kind, where(r), mdText(r.Message))
		}
		b.WriteString("\n")
	}
	list("Blocking", blocking)
	list("Reported", reported)
	writeParents(&b, d.Parents)
	if d.Scan != nil {
		writeFindings(&b, "Vulnerabilities", d.Scan)
	}
	for _, is := range d.Scans {
		writeFindings(&b, "Vulnerabilities: "+mdCode(is.Image), is.Scan)
	}
	return b.String()
}

// WriteMarkdown writes the summary for $GITHUB_STEP_SUMMARY: the decision
// first, then the candidate's report (cells, failures, log tails) when given.
func (d Decision) WriteMarkdown(w io.Writer, candidate *report.Report) error {
	if candidate == nil {
		if _, err := io.WriteString(w, d.Markdown()); err != nil {
			return fmt.Errorf("writing Markdown: %w", err)
		}
		return nil
	}
	return candidate.WriteMarkdown(w, d.Markdown()+"### Candidate tests\n")
}

// JUnitSuite is the decision as a JUnit suite "slipway gate": a case per
// reason (failing when it blocks) and a case "decision" that fails when the
// gate blocks.
func (d Decision) JUnitSuite() report.JUnitSuite {
	s := report.JUnitSuite{Name: "slipway gate", Properties: []report.AxisValue{
		{Name: "mode", Value: d.Mode}, {Name: "flaky", Value: d.Flaky}, {Name: "pass", Value: fmt.Sprint(d.Pass)},
	}}
	var out bytes.Buffer
	for _, r := range d.Reasons {
		st := report.CasePass
		if r.Blocking {
			st = report.CaseFail
		}
		name := r.Cell
		if r.Case != "" {
			name += " › " + r.Case
		}
		if r.Finding != "" {
			name = "scan › " + r.Finding
		}
		if name == "" {
			name = "run"
		}
		s.Cases = append(s.Cases, report.Case{Suite: s.Name, Classname: "slipway.gate." + string(r.Kind), Name: name, Status: st, Message: r.Message})
		fmt.Fprintln(&out, r.String())
	}
	dc := report.Case{Suite: s.Name, Classname: "slipway.gate", Name: "decision", Status: report.CasePass}
	if !d.Pass {
		dc.Status, dc.Message = report.CaseFail, strings.TrimPrefix(d.Headline(), "## ❌ ")
	}
	s.Cases = append(s.Cases, dc)
	s.SystemOut = out.String()
	return s
}

// WriteJUnit writes one JUnit file: the candidate's cells (when given), then
// the gate's suite, so CI test views show the decision beside the tests.
func (d Decision) WriteJUnit(w io.Writer, candidate *report.Report) error {
	var suites []report.JUnitSuite
	if candidate != nil {
		suites = candidate.JUnitSuites()
	}
	return report.WriteJUnit(w, "slipway", append(suites, d.JUnitSuite()))
}

func where(r Reason) string {
	s := ""
	if r.Cell != "" {
		s += " `" + mdCode(r.Cell) + "`"
	}
	if r.Case != "" {
		s += " › `" + mdCode(r.Case) + "`"
	}
	if r.Finding != "" {
		s += " `" + mdCode(r.Finding) + "`"
	}
	return s
}

func imageLine(i *Image) string {
	var parts []string
	for _, p := range []string{i.Image, i.Digest, i.Revision} {
		if p != "" {
			parts = append(parts, "`"+mdCode(p)+"`")
		}
	}
	if len(parts) == 0 {
		return "(unnamed)"
	}
	return strings.Join(parts, " · ")
}

func mdCode(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "`", "'")
}

func mdText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// writeParents says how the Go parent tests that fail with their subtests
// were counted: once, in their subtests' reasons.
func writeParents(b *strings.Builder, parents []Parent) {
	if len(parents) == 0 {
		return
	}
	b.WriteString("### Parent tests\n\n")
	b.WriteString("`go test` and gotestsum fail a Go parent test when one of its subtests fails, and report both. " +
		"The gate counts that failure once, in the subtests' reasons above; a parent that fails on its own " +
		"(its subtests passing) has a reason of its own. In the test counts, parents and subtests are each a test.\n\n")
	for i, p := range parents {
		if i == mdMaxReasons {
			fmt.Fprintf(b, "- … and %d more\n", len(parents)-i)
			break
		}
		subs := make([]string, len(p.Subtests))
		for j, s := range p.Subtests {
			subs[j] = "`" + mdCode(s) + "`"
		}
		fmt.Fprintf(b, "- `%s` in `%s`: fails with %s\n", mdCode(p.Case), mdCode(p.Cell), strings.Join(subs, ", "))
	}
	b.WriteString("\n")
}
