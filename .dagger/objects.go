package main

import (
	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// TestReport is the result of a test matrix run.
type TestReport struct {
	// One line: how many cells passed, failed, were flaky.
	Headline string
	// Test cases run, from the JUnit files of every cell.
	Tests int
	// Cells, in matrix order.
	Cells []*Cell
	// +private
	JSONText string
	// +private
	MarkdownText string
	// +private
	JUnitText string
}

// Cell is the result of one matrix cell.
type Cell struct {
	// Stable id: the suite name with the axes interpolated, e.g. e2e-2-firefox.
	Name string
	// pass, fail, flaky, timeout, error or cancelled.
	Status string
	// Why the cell did not pass, or that it passed on a retry.
	Reason   string
	ExitCode int
	Attempts int
}

func newTestReport(r *report.Report) (*TestReport, error) {
	rendered, err := flow.RenderReport(r)
	if err != nil {
		return nil, err
	}
	out := &TestReport{Headline: r.Headline(), Tests: r.Tests(), JSONText: rendered.JSON, MarkdownText: rendered.Markdown, JUnitText: rendered.JUnit}
	for _, c := range r.Cells {
		out.Cells = append(out.Cells, &Cell{Name: c.ID, Status: string(c.Status), Reason: c.Reason, ExitCode: c.ExitCode, Attempts: c.Attempts})
	}
	return out, nil
}

// JSON is the whole report, the input of `slipway gate`.
func (r *TestReport) JSON() string { return r.JSONText }

// Markdown is the summary for $GITHUB_STEP_SUMMARY.
func (r *TestReport) Markdown() string { return r.MarkdownText }

// Junit is every cell's test cases as one JUnit XML file.
func (r *TestReport) Junit() *dagger.File { return dag.File("slipway-junit.xml", r.JUnitText) }

// Promotion is the outcome of a promotion: the gate decision and what moved.
type Promotion struct {
	// pass or fail.
	Decision string
	// The decision in one line.
	Headline string
	// The gate mode applied: strict when there was no baseline yet.
	Mode string
	// The published candidate (repo:tag@sha256:...), empty on a dry run.
	Published string
	// The baseline digest tested against, empty when there was none.
	Baseline string
	// What happened to each tag, the copy and the promotion record.
	Actions []string
	DryRun  bool
	// +private
	JSONText string
	// +private
	MarkdownText string
	// +private
	JUnitText string
}

func newPromotion(p *flow.Promotion) (*Promotion, error) {
	rendered, err := p.Render()
	if err != nil {
		return nil, err
	}
	out := &Promotion{
		Decision:     "fail",
		Headline:     p.Decision.Headline(),
		Mode:         p.Decision.Mode,
		Published:    p.Published,
		Baseline:     p.BaselineDigest,
		DryRun:       p.DryRun,
		JSONText:     rendered.JSON,
		MarkdownText: rendered.Markdown,
		JUnitText:    rendered.JUnit,
	}
	if p.Decision.Pass {
		out.Decision = "pass"
	}
	if p.Result != nil {
		out.Actions = p.Result.Lines()
	}
	return out, nil
}

// JSON is the decision with every reason, both reports and the registry actions.
func (p *Promotion) JSON() string { return p.JSONText }

// Markdown is the summary for $GITHUB_STEP_SUMMARY, decision first.
func (p *Promotion) Markdown() string { return p.MarkdownText }

// Junit is the decision and the candidate's test cases as JUnit XML.
func (p *Promotion) Junit() *dagger.File { return dag.File("slipway-promotion.xml", p.JUnitText) }

// PruneReport is the retention plan for a repository, and what was applied.
type PruneReport struct {
	// +private
	JSONText string
	// +private
	MarkdownText string
}

// JSON is the whole plan: every item with its reason.
func (r *PruneReport) JSON() string { return r.JSONText }

// Markdown is the plan as a table: every item with its reason, and the summary.
func (r *PruneReport) Markdown() string { return "```\n" + r.MarkdownText + "```\n" }
