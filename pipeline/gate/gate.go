// Package gate decides whether a candidate image may be promoted, from its
// test report and the baseline's (DESIGN.md §5), and from both images'
// vulnerability scans (MergeScans). Decide is a pure function: the same
// reports give the same Decision, reasons in the same order.
package gate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

// Kind is the kind of a Reason.
type Kind string

// Reason kinds. Whether a reason blocks is in Reason.Blocking; the comments
// say when each kind blocks.
const (
	// NoBaseline: no baseline report; the candidate was judged strict. Never blocks.
	NoBaseline Kind = "no-baseline"
	// NoTests: the candidate ran zero tests (see report.Report.Tests). Blocks.
	NoTests Kind = "no-tests"
	// InvalidConfig: an unknown mode or flaky policy. Blocks (fail closed).
	InvalidConfig Kind = "invalid-config"
	// CellError: a candidate cell's engine or registry failed. Blocks.
	CellError Kind = "error"
	// CellCancelled: a candidate cell was cancelled. Blocks.
	CellCancelled Kind = "cancelled"
	// Failure: a cell or case that does not pass where no baseline can
	// excuse it (strict mode, or the baseline cell has no evidence). Blocks.
	Failure Kind = "failure"
	// Regression: passes on the baseline, not on the candidate. Blocks.
	Regression Kind = "regression"
	// NewFailure: a case or cell the baseline did not run fails. Blocks.
	NewFailure Kind = "new-failure"
	// MissingCell: a baseline cell is missing from the candidate. Blocks.
	MissingCell Kind = "missing-cell"
	// Dropped: a case the baseline ran is not run by the candidate (absent or
	// skipped). Blocks unless AllowDropped.
	Dropped Kind = "dropped"
	// KnownFailure: fails on both. Never blocks.
	KnownFailure Kind = "known-failure"
	// Fixed: fails on the baseline, passes on the candidate. Never blocks.
	Fixed Kind = "fixed"
	// FlakyResult: a cell passed on retry or a case passed after failing
	// reruns. Blocks when the flaky policy is "fail".
	FlakyResult Kind = "flaky"
	// Ambiguous: several tests of a cell share one identity (see
	// report.Case.Ambiguous). On a case: it fails on the candidate and some
	// of its twins failed on the baseline, so nothing proves it is a known
	// failure; blocks. On a cell: a warning that such identities exist and
	// how to make them unique; never blocks.
	Ambiguous Kind = "ambiguous"
	// BaselineUnusable: the baseline cell errored or was cancelled, so it
	// proves nothing; that cell of the candidate was judged strict. Never
	// blocks by itself.
	BaselineUnusable Kind = "baseline-unusable"

	// The kinds of the vulnerability scan (MergeScans). Finding reasons
	// name the finding in Reason.Finding.

	// VulnNew: a finding at or above the threshold the baseline does not
	// have. Blocks, except under no-new when there is no baseline image.
	VulnNew Kind = "vuln-new"
	// VulnKnown: a finding the baseline has too. Blocks under strict.
	VulnKnown Kind = "vuln-known"
	// VulnFixed: counted on the baseline, gone from the candidate. Never blocks.
	VulnFixed Kind = "vuln-fixed"
	// VulnIgnored: covered by an ignore rule that has not expired. Never blocks.
	VulnIgnored Kind = "vuln-ignored"
	// IgnoreExpired: an ignore rule past its expiry; it no longer ignores
	// (what it covered is judged as any finding). Never blocks by itself.
	IgnoreExpired Kind = "ignore-expired"
	// ScanError: the candidate could not be scanned. Blocks (fail closed).
	ScanError Kind = "scan-error"
	// ScanBaselineUnusable: the baseline scan failed, so it proves nothing:
	// every finding of the candidate counts as new (judged strict). Never
	// blocks by itself.
	ScanBaselineUnusable Kind = "scan-baseline-unusable"
	// ScanNoBaseline: there is no baseline image. Under no-new the
	// candidate's findings are reported, not judged; under strict they
	// block. Never blocks by itself.
	ScanNoBaseline Kind = "scan-no-baseline"
)

// Reason is one finding of the gate.
type Reason struct {
	Kind Kind `json:"kind"`
	// Cell is the cell id; empty for run-wide reasons.
	Cell string `json:"cell,omitempty"`
	// Case is the case's display id (report.Case.ID); empty for cell-wide reasons.
	Case string `json:"case,omitempty"`
	// Finding names a vulnerability finding ("CVE-2019-14697 musl") or an
	// ignore rule; empty for test reasons.
	Finding  string `json:"finding,omitempty"`
	Blocking bool   `json:"blocking"`
	Message  string `json:"message"`
}

func (r Reason) String() string {
	where := r.Cell
	if r.Case != "" {
		where += " › " + r.Case
	}
	if r.Finding != "" {
		where = r.Finding
	}
	if where != "" {
		where = " " + where
	}
	return fmt.Sprintf("%s%s: %s", r.Kind, where, r.Message)
}

// Image identifies a tested image in a Decision.
type Image struct {
	Image    string `json:"image,omitempty"`
	Digest   string `json:"digest,omitempty"`
	Revision string `json:"revision,omitempty"`
}

// Decision is the gate's verdict with every reason, blocking first.
type Decision struct {
	Pass bool `json:"pass"`
	// Mode actually applied: "strict" when no baseline was given.
	Mode         string `json:"mode"`
	Flaky        string `json:"flaky"`
	AllowDropped bool   `json:"allowDropped"`
	// Tests the candidate ran (report.Report.Tests).
	Tests     int      `json:"tests"`
	Candidate Image    `json:"candidate"`
	Baseline  *Image   `json:"baseline,omitempty"`
	Reasons   []Reason `json:"reasons"`
	// Scan is the vulnerability comparison (MergeScans); nil when the
	// images were not scanned, or in a run of several images (Scans).
	Scan *scan.Comparison `json:"scan,omitempty"`
	// Scans are the vulnerability comparisons of a run of several images,
	// one an image, in the run's order.
	Scans []ImageScan `json:"scans,omitempty"`
	// Parents are the Go parent tests that fail with their subtests (go
	// test and gotestsum fail a parent when a subtest fails): their
	// failure is counted once, in the subtests' reasons, and none of their
	// own is given.
	Parents []Parent `json:"parents,omitempty"`
}

// ImageScan is one image's vulnerability comparison in a run of several.
type ImageScan struct {
	Image string           `json:"image"`
	Scan  *scan.Comparison `json:"scan"`
}

// Parent is a Go parent test whose reason the gate left to its subtests.
type Parent struct {
	Cell string `json:"cell"`
	Case string `json:"case"`
	// Subtests are the subtests with reasons that account for it.
	Subtests []string `json:"subtests"`
}

// Blocking returns the reasons that block.
func (d Decision) Blocking() []Reason {
	var out []Reason
	for _, r := range d.Reasons {
		if r.Blocking {
			out = append(out, r)
		}
	}
	return out
}

// Decide judges candidate against baseline (nil: there is none yet).
//
// An empty cfg.Mode is "no-regression" and an empty cfg.Flaky is "warn"; an
// unknown value of either fails the gate. Without a baseline, no-regression
// becomes strict and a NoBaseline reason says so.
//
// strict: every candidate cell passes and every case passes or is skipped.
//
// no-regression: cell by cell (by id) and case by case (by report.Case.Key):
//   - a cell on the baseline missing from the candidate blocks (MissingCell);
//   - a cell or case that passes on the baseline and not on the candidate
//     blocks (Regression);
//   - a case the baseline did not run (absent or skipped) that fails on the
//     candidate blocks (NewFailure), as does a failing cell new to the
//     candidate, which is judged strict;
//   - a case the baseline ran that the candidate does not run (absent or
//     skipped) blocks unless cfg.AllowDropped (Dropped, reported either way);
//   - failing on both is allowed and reported (KnownFailure); passing only on
//     the candidate is reported (Fixed).
//
// In both modes: a candidate cell with status error or cancelled never
// passes; flaky cells and cases are reported and block when cfg.Flaky is
// "fail"; a candidate that ran zero tests never passes. A baseline cell with
// status error or cancelled is no evidence either way — nothing proves the
// candidate did not regress there — so that candidate cell is judged strict
// (BaselineUnusable reports it): it passes the gate only if it fully passes.
//
// Reruns are merged by the JUnit parser where the format declares them
// (report.ParseJUnit). Cases that share a key in one cell otherwise
// (report.Case.Ambiguous, or the same key from two files) are judged as a
// group and fail closed: a failing member is a regression when every twin
// passed on the baseline, a new failure when the baseline did not run them,
// and blocks as ambiguous when some twin failed there too (nothing proves
// it is the same test); fewer members running than on the baseline is
// dropped. Never "flaky".
func Decide(cfg config.Gate, candidate, baseline *report.Report) Decision {
	d := &decider{cfg: cfg}
	d.dec.Flaky, d.dec.AllowDropped = cfg.Flaky, cfg.AllowDropped
	if d.dec.Flaky == "" {
		d.dec.Flaky = config.FlakyWarn
	}
	mode := cfg.Mode
	if mode == "" {
		mode = config.ModeNoRegression
	}
	if mode != config.ModeStrict && mode != config.ModeNoRegression {
		d.add(Reason{Kind: InvalidConfig, Blocking: true, Message: fmt.Sprintf("unknown gate mode %q (want %s or %s)", mode, config.ModeNoRegression, config.ModeStrict)})
		mode = config.ModeStrict
	}
	if d.dec.Flaky != config.FlakyWarn && d.dec.Flaky != config.FlakyFail {
		d.add(Reason{Kind: InvalidConfig, Blocking: true, Message: fmt.Sprintf("unknown flaky policy %q (want %s or %s)", d.dec.Flaky, config.FlakyWarn, config.FlakyFail)})
	}
	if mode == config.ModeNoRegression && baseline == nil {
		mode = config.ModeStrict
		d.add(Reason{Kind: NoBaseline, Message: "no baseline report yet: judged strict (every cell and case must pass)"})
	}
	d.dec.Mode = mode
	if candidate != nil {
		d.dec.Candidate = Image{candidate.Image, candidate.Digest, candidate.Revision}
	}
	if baseline != nil && mode == config.ModeNoRegression {
		d.dec.Baseline = &Image{baseline.Image, baseline.Digest, baseline.Revision}
	}

	d.dec.Tests = candidate.Tests()
	if d.dec.Tests == 0 {
		msg := "the candidate ran zero tests"
		if candidate == nil || len(candidate.Cells) == 0 {
			msg = "the candidate report has no cells"
		}
		d.add(Reason{Kind: NoTests, Blocking: true, Message: msg})
	}
	if candidate != nil {
		if mode == config.ModeStrict {
			for _, c := range candidate.Cells {
				d.strict(c, Failure)
			}
		} else {
			d.noRegression(candidate, baseline)
		}
	}

	d.dec.finish()
	return d.dec
}

// finish orders the reasons, blocking first, and sets Pass.
func (d *Decision) finish() {
	sort.SliceStable(d.Reasons, func(i, j int) bool {
		a, b := d.Reasons[i], d.Reasons[j]
		if a.Blocking != b.Blocking {
			return a.Blocking
		}
		if a.Cell != b.Cell {
			return a.Cell < b.Cell
		}
		if a.Case != b.Case {
			return a.Case < b.Case
		}
		if a.Finding != b.Finding {
			return a.Finding < b.Finding
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Message < b.Message
	})
	d.Pass = len(d.Blocking()) == 0
	if d.Reasons == nil {
		d.Reasons = []Reason{}
	}
}

type decider struct {
	cfg config.Gate
	dec Decision
}

func (d *decider) add(r Reason) { d.dec.Reasons = append(d.dec.Reasons, r) }

func (d *decider) flaky(cell, cas, msg string) {
	d.add(Reason{Kind: FlakyResult, Cell: cell, Case: cas, Blocking: d.dec.Flaky != config.FlakyWarn, Message: msg})
}

// unusable reports whether a cell says nothing about the code: an error or a
// cancellation. On the candidate it blocks.
func (d *decider) unusable(c report.CellResult) bool {
	switch c.Status {
	case report.Error:
		d.add(Reason{Kind: CellError, Cell: c.ID, Blocking: true, Message: "engine or registry failure, not a test result: " + orStatus(c)})
		return true
	case report.Cancelled:
		d.add(Reason{Kind: CellCancelled, Cell: c.ID, Blocking: true, Message: orStatus(c)})
		return true
	}
	return false
}

// strict judges one candidate cell on its own; fail is the kind a failure
// gets (Failure, or NewFailure for a cell the baseline does not have).
func (d *decider) strict(c report.CellResult, fail Kind) {
	if d.unusable(c) {
		return
	}
	start := len(d.dec.Reasons)
	defer func() {
		// The cell's own reason only where no case explains it.
		if (c.Status == report.Fail || c.Status == report.Timeout) && !d.casesExplain(start, c.ID) {
			d.add(Reason{Kind: fail, Cell: c.ID, Blocking: true, Message: "cell " + string(c.Status) + ": " + orStatus(c)})
		}
		d.dropParents(start)
	}()
	if c.Status == report.Flaky {
		d.flaky(c.ID, "", orStatus(c))
	}
	cases := mergeCases(c.Cases)
	d.ambiguityWarning(c.ID, cases)
	for _, k := range sortedKeys(cases) {
		tc := cases[k]
		if tc.ambiguous {
			for _, m := range failing(tc.members) {
				d.add(Reason{Kind: fail, Cell: c.ID, Case: m.ID(), Blocking: true, Message: caseMsg(m) + ambiguityNote(tc)})
			}
			for _, m := range tc.members {
				if m.Flaky {
					d.flaky(c.ID, m.ID(), flakyMsg(m))
				}
			}
			continue
		}
		switch {
		case tc.Status.Failed():
			d.add(Reason{Kind: fail, Cell: c.ID, Case: tc.ID(), Blocking: true, Message: caseMsg(tc.Case)})
		case tc.Flaky:
			d.flaky(c.ID, tc.ID(), flakyMsg(tc.Case))
		}
	}
}

func (d *decider) noRegression(cand, base *report.Report) {
	baseCells := make(map[string]report.CellResult, len(base.Cells))
	for _, b := range base.Cells {
		baseCells[b.ID] = b
	}
	candIDs := make(map[string]bool, len(cand.Cells))
	for _, c := range cand.Cells {
		candIDs[c.ID] = true
		b, ok := baseCells[c.ID]
		switch {
		case !ok:
			d.strict(c, NewFailure)
		case !b.Status.Ran():
			d.add(Reason{Kind: BaselineUnusable, Cell: c.ID, Message: fmt.Sprintf("the baseline cell ended %s (%s): no evidence, so this cell must pass outright", b.Status, orStatus(b))})
			d.strict(c, Failure)
		case couldNotRun(b, c):
			d.add(Reason{Kind: BaselineUnusable, Cell: c.ID, Message: fmt.Sprintf("baseline could not run this suite (%s): judged strict, this cell must pass outright", orStatus(b))})
			d.strict(c, Failure)
		default:
			d.compare(c, b)
		}
	}
	for _, b := range base.Cells {
		if !candIDs[b.ID] {
			d.add(Reason{Kind: MissingCell, Cell: b.ID, Blocking: true, Message: fmt.Sprintf("the baseline ran this cell (%s); the candidate report does not have it", b.Status)})
		}
	}
}

// compare judges a candidate cell against a baseline cell that ran.
func (d *decider) compare(c, b report.CellResult) {
	if d.unusable(c) {
		return
	}
	start := len(d.dec.Reasons)
	defer func() {
		// The cell's own reason only where no case explains it: one
		// reason per test, and the cell's status is its cases'.
		if !d.casesExplain(start, c.ID) {
			switch bp, cp := b.Status.Passed(), c.Status.Passed(); {
			case bp && !cp:
				d.add(Reason{Kind: Regression, Cell: c.ID, Blocking: true, Message: fmt.Sprintf("%s on the baseline, %s on the candidate: %s", b.Status, c.Status, orStatus(c))})
			case !bp && !cp:
				d.add(Reason{Kind: KnownFailure, Cell: c.ID, Message: fmt.Sprintf("%s on the baseline too; candidate: %s", b.Status, orStatus(c))})
			case !bp && cp:
				d.add(Reason{Kind: Fixed, Cell: c.ID, Message: fmt.Sprintf("%s on the baseline, %s on the candidate", b.Status, c.Status)})
			}
		}
		d.dropParents(start)
	}()
	if c.Status == report.Flaky {
		d.flaky(c.ID, "", orStatus(c))
	}
	if len(c.Cases) == 0 && !c.Status.Passed() {
		return // no JUnit from a failed cell: the cell-level reason says it all
	}
	cc, bc := mergeCases(c.Cases), mergeCases(b.Cases)
	d.ambiguityWarning(c.ID, cc)
	keys := sortedKeys(cc)
	for k := range bc {
		if _, ok := cc[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		ct, inC := cc[k]
		bt, inB := bc[k]
		if (inC && ct.ambiguous) || (inB && bt.ambiguous) {
			d.compareGroup(c.ID, ct, bt)
			continue
		}
		id := ct.ID()
		if !inC {
			id = bt.ID()
		}
		bRan := inB && bt.Status != report.CaseSkip
		switch {
		case !inC || ct.Status == report.CaseSkip:
			if bRan {
				what := "no longer runs"
				if inC {
					what = "is skipped on the candidate"
				}
				d.add(Reason{Kind: Dropped, Cell: c.ID, Case: id, Blocking: !d.cfg.AllowDropped,
					Message: fmt.Sprintf("ran on the baseline (%s), %s", bt.Status, what)})
			}
		case ct.Status.Failed():
			switch {
			case !bRan:
				d.add(Reason{Kind: NewFailure, Cell: c.ID, Case: id, Blocking: true, Message: caseMsg(ct.Case)})
			case bt.Status == report.CasePass:
				d.add(Reason{Kind: Regression, Cell: c.ID, Case: id, Blocking: true, Message: "passes on the baseline: " + caseMsg(ct.Case)})
			default:
				d.add(Reason{Kind: KnownFailure, Cell: c.ID, Case: id, Message: fmt.Sprintf("%s on the baseline too: %s", bt.Status, caseMsg(ct.Case))})
			}
		default: // passes
			if bRan && bt.Status.Failed() {
				d.add(Reason{Kind: Fixed, Cell: c.ID, Case: id, Message: fmt.Sprintf("%s on the baseline, passes on the candidate", bt.Status)})
			}
			if ct.Flaky {
				d.flaky(c.ID, id, flakyMsg(ct.Case))
			}
		}
	}
}

// couldNotRun reports a baseline cell that ran no test of its suite: its
// command was not found or not executable (exit 126 or 127), or it wrote no
// report where the candidate's did. It says nothing about the candidate's
// tests: a candidate passing them has fixed nothing.
func couldNotRun(b, c report.CellResult) bool {
	if b.Status.Passed() || len(b.Cases) > 0 {
		return false
	}
	return report.CannotRun(b.ExitCode) || len(c.Cases) > 0
}

// casesExplain reports whether a case-level reason about cell, added since
// reason index start, accounts for the cell's outcome.
func (d *decider) casesExplain(start int, cell string) bool {
	for _, r := range d.dec.Reasons[start:] {
		if r.Cell == cell && r.Case != "" && r.Kind != FlakyResult && r.Kind != Dropped {
			return true
		}
	}
	return false
}

// dropParents removes, from the reasons added since start, the reason of a
// Go parent test (TestA) whose subtest (TestA/b) has a reason of the same
// cell at least as severe: the parent fails because the subtest does, and
// one failing test is one reason.
func (d *decider) dropParents(start int) {
	added := d.dec.Reasons[start:]
	keep := added[:0:0]
	for _, r := range added {
		var subtests []string
		if r.Case != "" && r.Kind != FlakyResult {
			for _, o := range added {
				if o.Cell == r.Cell && o.Kind != FlakyResult && strings.HasPrefix(o.Case, r.Case+"/") && (o.Blocking || !r.Blocking) {
					subtests = append(subtests, o.Case)
				}
			}
		}
		if subtests == nil {
			keep = append(keep, r)
			continue
		}
		d.dec.Parents = append(d.dec.Parents, Parent{Cell: r.Cell, Case: r.Case, Subtests: subtests})
	}
	d.dec.Reasons = append(d.dec.Reasons[:start], keep...)
}

// entry is the cases of one key in a cell: one test, or a group of tests
// that share the key (ambiguous).
type entry struct {
	// Case is the test; for a group, its first member.
	report.Case
	ambiguous bool
	// members: the test, or the group's tests in a fixed order; nil when
	// the cell has no case of this key.
	members []report.Case
}

// mergeCases indexes cases by key. Cases that share a key form an
// ambiguous group, never a rerun: the parser merged the reruns it could
// prove.
func mergeCases(cases []report.Case) map[string]entry {
	m := make(map[string]entry, len(cases))
	for _, c := range cases {
		k := c.Key()
		e, ok := m[k]
		if !ok {
			m[k] = entry{Case: c, ambiguous: c.Ambiguous, members: []report.Case{c}}
			continue
		}
		e.ambiguous = true
		e.members = append(e.members, c)
		m[k] = e
	}
	for k, e := range m {
		if !e.ambiguous {
			continue
		}
		sort.Slice(e.members, func(i, j int) bool {
			a, b := e.members[i], e.members[j]
			if a.ID() != b.ID() {
				return a.ID() < b.ID()
			}
			if a.Status != b.Status {
				return a.Status < b.Status
			}
			return a.Message < b.Message
		})
		e.Case = e.members[0]
		m[k] = e
	}
	return m
}

// count returns how many members of e ran (not skipped) and failed; zero
// for a missing entry.
func (e entry) count() (ran, failed int) {
	for _, m := range e.members {
		if m.Status != report.CaseSkip {
			ran++
		}
		if m.Status.Failed() {
			failed++
		}
	}
	return ran, failed
}

// compareGroup judges a key that several tests share on either side,
// failing closed (see Decide).
func (d *decider) compareGroup(cell string, c, b entry) {
	cRan, cFailed := c.count()
	bRan, bFailed := b.count()
	note := ambiguityNote(c)
	if note == "" {
		note = ambiguityNote(b)
	}
	if cFailed > 0 {
		for _, m := range failing(c.members) {
			switch {
			case bRan == 0:
				d.add(Reason{Kind: NewFailure, Cell: cell, Case: m.ID(), Blocking: true, Message: caseMsg(m) + note})
			case bFailed == 0:
				d.add(Reason{Kind: Regression, Cell: cell, Case: m.ID(), Blocking: true, Message: "passes on the baseline: " + caseMsg(m) + note})
			default:
				d.add(Reason{Kind: Ambiguous, Cell: cell, Case: m.ID(), Blocking: true, Message: fmt.Sprintf(
					"%s; %d of the %d tests with this identity failed on the baseline too, but nothing tells them apart, so it is not excused as a known failure%s",
					caseMsg(m), bFailed, bRan, note)})
			}
		}
		return
	}
	id := c.ID()
	if len(c.members) == 0 {
		id = b.ID()
	}
	if cRan < bRan {
		d.add(Reason{Kind: Dropped, Cell: cell, Case: id, Blocking: !d.cfg.AllowDropped,
			Message: fmt.Sprintf("%d tests with this identity ran on the baseline, %d on the candidate%s", bRan, cRan, note)})
	}
	if bFailed > 0 {
		d.add(Reason{Kind: Fixed, Cell: cell, Case: id, Message: fmt.Sprintf("%d of the tests with this identity failed on the baseline, none fails on the candidate", bFailed)})
	}
	for _, m := range c.members {
		if m.Flaky {
			d.flaky(cell, m.ID(), flakyMsg(m))
		}
	}
}

// failing returns the failing members, one per display id (twins that
// nothing tells apart would give the same reason twice).
func failing(members []report.Case) []report.Case {
	var out []report.Case
	seen := map[string]bool{}
	for _, m := range members {
		if m.Status.Failed() && !seen[m.ID()] {
			seen[m.ID()] = true
			out = append(out, m)
		}
	}
	return out
}

// ambiguityWarning adds one warning for a candidate cell whose cases share
// identities, before any of them fails.
func (d *decider) ambiguityWarning(cell string, cases map[string]entry) {
	var groups []entry
	for _, k := range sortedKeys(cases) {
		if e := cases[k]; e.ambiguous {
			groups = append(groups, e)
		}
	}
	if len(groups) == 0 {
		return
	}
	n := 0
	for _, g := range groups {
		n += len(g.members)
	}
	d.add(Reason{Kind: Ambiguous, Cell: cell, Message: fmt.Sprintf(
		"%d tests share their identity with another (e.g. %q): a failing one blocks, none is excused as a known failure or flaky; to tell them apart: %s",
		n, groups[0].ID(), report.AmbiguityHint(groups[0].Case))})
}

// ambiguityNote ends a message about a member of an ambiguous group.
func ambiguityNote(e entry) string {
	if !e.ambiguous {
		return ""
	}
	return fmt.Sprintf(" (identity shared by %d tests in this cell: %s)", len(e.members), report.AmbiguityHint(e.Case))
}

func sortedKeys(m map[string]entry) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orStatus(c report.CellResult) string {
	if c.Reason != "" {
		return firstLine(c.Reason)
	}
	return string(c.Status)
}

func caseMsg(c report.Case) string {
	if m := firstLine(c.Message); m != "" {
		return string(c.Status) + ": " + m
	}
	return string(c.Status)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func flakyMsg(c report.Case) string {
	if m := firstLine(c.Message); m != "" {
		return "passed after failing: " + m
	}
	return "passed after failing"
}
