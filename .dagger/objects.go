package main

import (
	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// TestReport is the result of a test matrix run.
type TestReport struct {
	// One line: how many cells passed, failed, were flaky.
	Headline string
	// Test cases run, from the JUnit files of every cell.
	Tests int
	// Milliseconds the run's one build took before the cells ran, 0 for a ref.
	BuildMs int
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
	Reason string
	// Exit code of the cell's last attempt.
	ExitCode int
	// How many times the cell ran: 1, or more after retries.
	Attempts int
}

func newTestReport(r *report.Report) (*TestReport, error) {
	rendered, err := flow.RenderReport(r)
	if err != nil {
		return nil, err
	}
	out := &TestReport{Headline: r.Headline(), Tests: r.Tests(), JSONText: rendered.JSON, MarkdownText: rendered.Markdown, JUnitText: rendered.JUnit}
	if r.Build != nil {
		out.BuildMs = int(r.Build.Duration.Std().Milliseconds())
	}
	for _, c := range r.Cells {
		out.Cells = append(out.Cells, &Cell{Name: c.ID, Status: string(c.Status), Reason: c.Reason, ExitCode: c.ExitCode, Attempts: c.Attempts})
	}
	return out, nil
}

// Json is the whole report, the input of `slipway gate`.
func (r *TestReport) Json() string { return r.JSONText }

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
	// Whether this was a dry run: tested and gated, nothing published.
	DryRun bool
	// Each image of a run of several (the config's images section); empty for one image.
	Images []*PromotedImage
	// Predicate types of the signed attestations attached (--signing-key); empty unsigned.
	Attested []string
	// The in-toto test-result predicate of the candidate's run (JSON), for cosign attest --predicate.
	TestResult string
	// +private
	JSONText string
	// +private
	MarkdownText string
	// +private
	JUnitText string
}

// newPromotion is the Promotion of p; registryHost, the ephemeral
// registry's service endpoint, is written localhost:5000 as users know it.
func newPromotion(p *flow.Promotion, registryHost string) (*Promotion, error) {
	rendered, err := p.Render()
	if err != nil {
		return nil, err
	}
	user := func(s string) string { return runplan.ForUser(s, registryHost) }
	out := &Promotion{
		Decision:     "fail",
		Headline:     user(p.Decision.Headline()),
		Mode:         p.Decision.Mode,
		Published:    user(p.Published),
		Baseline:     p.BaselineDigest,
		DryRun:       p.DryRun,
		Attested:     p.Attested,
		TestResult:   string(p.TestResult),
		JSONText:     user(rendered.JSON),
		MarkdownText: user(rendered.Markdown),
		JUnitText:    user(rendered.JUnit),
	}
	if p.Decision.Pass {
		out.Decision = "pass"
	}
	if p.Result != nil {
		for _, l := range p.Result.Lines() {
			out.Actions = append(out.Actions, user(l))
		}
	}
	for _, im := range p.Images {
		out.Images = append(out.Images, &PromotedImage{Name: im.Name, Repository: im.Repository, Baseline: im.Baseline, Published: user(im.Published)})
		if im.Result != nil {
			for _, l := range im.Result.Lines() {
				out.Actions = append(out.Actions, user(im.Name+": "+l))
			}
		}
	}
	for _, l := range p.Undone {
		out.Actions = append(out.Actions, user(l))
	}
	return out, nil
}

// PromotedImage is what a promotion did with one image of a run of several.
type PromotedImage struct {
	// The image's name in the config's images section.
	Name string
	// The repository that receives it.
	Repository string
	// The baseline digest its cells were compared with, empty when it had none yet.
	Baseline string
	// The published image (repo:tag@sha256:...), empty on a dry run or a blocked gate.
	Published string
}

// Json is the decision with every reason, both reports and the registry actions.
func (p *Promotion) Json() string { return p.JSONText }

// Markdown is the summary for $GITHUB_STEP_SUMMARY, decision first.
func (p *Promotion) Markdown() string { return p.MarkdownText }

// Junit is the decision and the candidate's test cases as JUnit XML.
func (p *Promotion) Junit() *dagger.File { return dag.File("slipway-promotion.xml", p.JUnitText) }

// Files is the whole report as files to export: summary.md, promotion.json and junit.xml.
//
// With promote --no-fail, one call then gives CI everything: export them,
// print summary.md, and fail the job when promotion.json's decision.pass
// is false.
func (p *Promotion) Files() *dagger.Directory {
	return dag.Directory().
		WithNewFile("summary.md", p.MarkdownText).
		WithNewFile("promotion.json", p.JSONText).
		WithNewFile("junit.xml", p.JUnitText)
}

// PruneReport is the retention plan for a repository, and what was applied.
type PruneReport struct {
	// +private
	JSONText string
	// +private
	MarkdownText string
}

// Json is the whole plan: every item with its reason.
func (r *PruneReport) Json() string { return r.JSONText }

// Markdown is the plan as a table: every item with its reason, and the summary.
func (r *PruneReport) Markdown() string { return "```\n" + r.MarkdownText + "```\n" }

// RollbackResult is what a rollback did, or would do.
type RollbackResult struct {
	// The digest the floating tag pointed at when the rollback read it.
	From string
	// The digest it moves back to.
	To string
	// How many promotions back To is (0: the tag already pointed there).
	Steps int
	// What happened to the tag: moved, would move or unchanged.
	Action string
	// The revision of the image moved back to, from its promotion record.
	Revision string
	// True when nothing was moved or written (--dry-run).
	DryRun bool
	// +private
	JSONText string
	// +private
	MarkdownText string
}

// Json is the whole result: the target's promotion, the tag, the record.
func (r *RollbackResult) Json() string { return r.JSONText }

// Markdown is the result for $GITHUB_STEP_SUMMARY.
func (r *RollbackResult) Markdown() string { return r.MarkdownText }

// PromotionHistory is the moves of a floating tag, newest first.
type PromotionHistory struct {
	// The digest the tag points at now ("none" when it does not exist).
	Current string
	// The moves, newest first.
	Entries []*HistoryEntry
	// Why the history stops where it does.
	End string
	// +private
	JSONText string
	// +private
	MarkdownText string
	// +private
	TableText string
}

// HistoryEntry is one move of a floating tag.
type HistoryEntry struct {
	// When the move was decided (RFC 3339).
	Time string
	// The digest the tag moved to.
	Digest string
	// The digest it pointed at before, empty for the first promotion.
	Replaced string
	// pass, manual or rollback.
	Decision string
	// The commit of the image.
	Revision string
	// The CI run that moved it.
	RunID string
	// Who moved it (rollbacks).
	Actor string
	// Why (rollbacks).
	Reason string
}

// Json is the history: every move with its record's fields.
func (h *PromotionHistory) Json() string { return h.JSONText }

// Markdown is the history as a Markdown table, for $GITHUB_STEP_SUMMARY.
func (h *PromotionHistory) Markdown() string { return h.MarkdownText }

// Table is the history as a plain-text table.
func (h *PromotionHistory) Table() string { return h.TableText }
