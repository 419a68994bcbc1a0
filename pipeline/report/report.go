// Package report is the results model of a Slipway test run: one CellResult
// per matrix cell with the test cases read from its JUnit files, and the
// outputs made from it: JSON (the exchange format between sharded runners and
// `slipway gate`), merged JUnit, and a Markdown summary for
// $GITHUB_STEP_SUMMARY.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Version is the report JSON schema version this build reads and writes.
const Version = 1

// Status is the outcome of one matrix cell.
type Status string

// Cell statuses. Pass and Flaky pass; the rest do not.
const (
	// Pass: the first attempt passed.
	Pass Status = "pass"
	// Fail: every attempt failed (non-zero exit or a failing test case).
	Fail Status = "fail"
	// Flaky: an attempt failed and a later retry passed.
	Flaky Status = "flaky"
	// Timeout: the last attempt ran out of time.
	Timeout Status = "timeout"
	// Error: the engine or registry failed; not a test result, never passes a gate.
	Error Status = "error"
	// Cancelled: the cell was stopped (fail-fast or a cancelled run) before it
	// produced a result; never passes a gate.
	Cancelled Status = "cancelled"
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case Pass, Fail, Flaky, Timeout, Error, Cancelled:
		return true
	}
	return false
}

// Passed reports whether s counts as passing (Pass or Flaky).
func (s Status) Passed() bool { return s == Pass || s == Flaky }

// Ran reports whether the cell produced test evidence, passing or not: false
// for Error and Cancelled, which say nothing about the code under test.
func (s Status) Ran() bool { return s != Error && s != Cancelled }

// CaseStatus is the outcome of one test case.
type CaseStatus string

// Test case statuses, as JUnit has them.
const (
	CasePass  CaseStatus = "pass"
	CaseFail  CaseStatus = "fail"
	CaseError CaseStatus = "error"
	CaseSkip  CaseStatus = "skip"
)

// Valid reports whether s is one of the case statuses above.
func (s CaseStatus) Valid() bool {
	switch s {
	case CasePass, CaseFail, CaseError, CaseSkip:
		return true
	}
	return false
}

// Failed reports whether s is CaseFail or CaseError.
func (s CaseStatus) Failed() bool { return s == CaseFail || s == CaseError }

// Duration is a time.Duration that reads and writes JSON as Go writes
// durations ("1.5s"), so reports round-trip exactly and stay readable.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as a string such as "1m2.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a string such as "1m2.5s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"1.5s\": %w", err)
	}
	td, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(td)
	return nil
}

// AxisValue is the value of one matrix axis in a cell. A slice of them keeps
// the matrix's axis order (and Dagger objects cannot hold maps).
type AxisValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Case is one test case read from a JUnit file.
type Case struct {
	// Suite is the enclosing <testsuite> name (a Go package, a jest file…).
	Suite string `json:"suite,omitempty"`
	// Classname is the testcase's classname attribute, when the tool writes one.
	Classname string     `json:"classname,omitempty"`
	Name      string     `json:"name"`
	Status    CaseStatus `json:"status"`
	Time      Duration   `json:"time"`
	// Message explains a failure, error or skip (bounded; see ParseJUnit).
	Message string `json:"message,omitempty"`
	// Flaky: the case passed after failed reruns that its format declares
	// (Surefire's and Playwright's <flakyFailure>, gotestsum's repeated
	// attempts in one Go suite).
	Flaky bool `json:"flaky,omitempty"`
	// Where is what else its JUnit file said about the case where suite,
	// classname and name did not tell it from another case of the file:
	// "hostname=webkit" (Playwright's project), "file=tests/a.test.js". Part
	// of Key. See ParseJUnit.
	Where string `json:"where,omitempty"`
	// Occurrence numbers a case told apart from another only by the position
	// of its repeated <testsuite> element (1-based); 0 otherwise. Shown, not
	// part of Key: a position is no identity across runs.
	Occurrence int `json:"occurrence,omitempty"`
	// Ambiguous: the file holds other cases with this Key that nothing in it
	// tells apart (or only a position does) and that its format does not
	// declare reruns. The gate judges such cases as a group, failing closed.
	Ambiguous bool `json:"ambiguous,omitempty"`
}

// Key identifies a case within a cell: suite, classname, name and Where.
// Cases with the same key that are not Ambiguous do not occur in one file.
func (c Case) Key() string {
	k := c.Suite + "\x1f" + c.Classname + "\x1f" + c.Name
	if c.Where != "" {
		k += "\x1f" + c.Where
	}
	return k
}

// ID is the case's display name: suite, classname and name joined by " › ",
// leaving out parts equal to the one before or empty, then Where and
// Occurrence in brackets ("x.spec.js › renders [hostname=webkit]").
func (c Case) ID() string {
	parts := make([]string, 0, 3)
	for _, p := range []string{c.Suite, c.Classname, c.Name} {
		if p == "" || (len(parts) > 0 && parts[len(parts)-1] == p) {
			continue
		}
		parts = append(parts, p)
	}
	id := strings.Join(parts, " › ")
	if c.Where != "" {
		id += " [" + c.Where + "]"
	}
	if c.Occurrence > 0 {
		id += " [" + occurrenceLabel(c.Occurrence) + "]"
	}
	return id
}

// CellResult is the result of one matrix cell.
type CellResult struct {
	// ID is the cell's stable id: its suite name with the axes interpolated.
	ID string `json:"id"`
	// Suite is the suite's name as written in slipway.yaml.
	Suite string      `json:"suite,omitempty"`
	Axes  []AxisValue `json:"axes,omitempty"`
	// Status of the last attempt, or Flaky when a retry passed.
	Status Status `json:"status"`
	// Reason says why a cell did not pass, or that it passed on a retry.
	Reason   string `json:"reason,omitempty"`
	ExitCode int    `json:"exitCode"`
	// Duration of all attempts together.
	Duration Duration `json:"duration"`
	// Attempts made; 0 when the cell was cancelled before it started.
	Attempts int `json:"attempts"`
	// LogTail is the end of the last attempt's output (see Tail).
	LogTail string `json:"logTail,omitempty"`
	// Cases from the last attempt's JUnit files.
	Cases []Case `json:"cases,omitempty"`
	// Smoke marks the smoke check: the image was started with its own
	// command and seen to run, nothing more.
	Smoke bool `json:"smoke,omitempty"`
	// Platform the cell ran on when it is not the first of
	// build.platforms (a suite with platforms: all).
	Platform string `json:"platform,omitempty"`
}

// SmokeOnly reports whether the smoke check is all r tested: it has cells,
// and every one is the smoke check.
func (r *Report) SmokeOnly() bool {
	return r != nil && len(r.Cells) > 0 && !slices.ContainsFunc(r.Cells, func(c CellResult) bool { return !c.Smoke })
}

// SmokeNote is what a report says when the smoke check is all it tested.
const SmokeNote = "Only the smoke check ran: the image was started with its own entrypoint and command, and nothing else was tested. " +
	"Add test.suites to slipway.yaml to run your tests against it (README: slipway.yaml)."

// Report is the result of one test run, or of one shard of it.
type Report struct {
	Version int `json:"version"`
	// Image is the reference that was tested, Digest its manifest digest.
	Image    string `json:"image,omitempty"`
	Digest   string `json:"digest,omitempty"`
	Revision string `json:"revision,omitempty"`
	RunID    string `json:"runId,omitempty"`
	// Shard is "i/n" when this report holds one shard of the matrix.
	Shard string `json:"shard,omitempty"`
	// Build is the run's build of the image under test, done once before
	// the cells ran; nil when the image was not built in this run (a ref).
	Build *Build       `json:"build,omitempty"`
	Cells []CellResult `json:"cells"`
	// NotRun are the cells the engine could not run on their platform
	// (no emulation): reported, not judged.
	NotRun []NotRunCell `json:"notRun,omitempty"`
}

// Build is how the image under test was built: once, before every cell, so
// a cell's duration is its own test run.
type Build struct {
	// Images built: one per platform.
	Images int `json:"images"`
	// Duration of the build, every platform at once; a build the engine
	// served from its cache takes next to nothing.
	Duration Duration `json:"duration"`
	// Platforms built, in the config's order, when more than one was.
	Platforms []PlatformBuild `json:"platforms,omitempty"`
}

// Platform build statuses.
const (
	// PlatformTested: the cells ran on this platform's image.
	PlatformTested = "tested"
	// PlatformSmokeTested: the suites with platforms: all (or the smoke
	// check) ran on this platform's image too.
	PlatformSmokeTested = "smoke-tested"
	// PlatformBuiltOnly: built before the gate (so a platform that does not
	// build fails the run before any write), published, not tested.
	PlatformBuiltOnly = "built-only"
)

// PlatformBuild is one platform's image of the run.
type PlatformBuild struct {
	// Image names the image of a run of several (images:); "" for the
	// run's one image.
	Image    string   `json:"image,omitempty"`
	Platform string   `json:"platform"`
	Status   string   `json:"status"`
	Duration Duration `json:"duration"`
	// Cells that ran on this platform's image, for the platforms after
	// the first.
	Cells int `json:"cells,omitempty"`
	// Note says why cells meant for this platform did not run.
	Note string `json:"note,omitempty"`
}

// NotRunCell is a cell that did not run on its platform because the
// engine cannot run that platform's images: it is neither a result nor a
// failure, and the gate does not compare it.
type NotRunCell struct {
	ID       string `json:"id"`
	Platform string `json:"platform"`
	Reason   string `json:"reason"`
}

// MarkPlatforms sets the status of the build's platforms after the first
// from the cells that ran on each (smoke-tested, or built-only), and notes
// the cells that could not.
func (r *Report) MarkPlatforms() {
	if r.Build == nil {
		return
	}
	for i := range r.Build.Platforms {
		p := &r.Build.Platforms[i]
		if p.Status == PlatformTested {
			continue // an image's first platform, where its cells ran
		}
		p.Cells, p.Status, p.Note = 0, PlatformBuiltOnly, ""
		for _, c := range r.Cells {
			if c.Platform == p.Platform {
				p.Cells++
			}
		}
		if p.Cells > 0 {
			p.Status = PlatformSmokeTested
		}
		var why string
		n := 0
		for _, c := range r.NotRun {
			if c.Platform == p.Platform {
				n++
				why = c.Reason
			}
		}
		if n > 0 {
			cells := "cells"
			if n == 1 {
				cells = "cell"
			}
			p.Note = fmt.Sprintf("%d %s not run: %s", n, cells, why)
		}
	}
}

// PlatformsBuilt is the per-platform part of a Build, from the platforms
// built (in the config's order) and how long each took: the cells ran on
// the first, the others were built only. Nil for a single platform, which
// needs no table.
func PlatformsBuilt(platforms []string, took []Duration) []PlatformBuild {
	if len(platforms) < 2 {
		return nil
	}
	out := make([]PlatformBuild, len(platforms))
	for i, p := range platforms {
		out[i] = PlatformBuild{Platform: p, Status: PlatformBuiltOnly, Duration: took[i]}
	}
	out[0].Status = PlatformTested
	return out
}

// ImagePlatformsBuilt is PlatformsBuilt for a run of several images:
// each image's platforms in turn (platforms[i] are images[i]'s, took
// their build times in the same order), named by image. Nil when no image
// has more than one platform.
func ImagePlatformsBuilt(images []string, platforms [][]string, took []Duration) []PlatformBuild {
	if !slices.ContainsFunc(platforms, func(ps []string) bool { return len(ps) > 1 }) {
		return nil
	}
	var out []PlatformBuild
	k := 0
	for i, name := range images {
		for j, p := range platforms[i] {
			b := PlatformBuild{Image: name, Platform: p, Status: PlatformBuiltOnly, Duration: took[k]}
			if j == 0 {
				b.Status = PlatformTested
			}
			out = append(out, b)
			k++
		}
	}
	return out
}

// Counts are the totals of a report.
type Counts struct {
	Cells                                       int
	Pass, Fail, Flaky, Timeout, Error, Canceled int
	Cases                                       int
	CasePass, CaseFail, CaseError, CaseSkip     int
	FlakyCases                                  int
}

// Tests is how many tests ran: the cases that ran (not skipped), plus one for
// each cell with no JUnit cases that ran (its command is its test). Error and
// cancelled cells run nothing.
func (r *Report) Tests() int {
	if r == nil {
		return 0
	}
	n := 0
	for _, c := range r.Cells {
		tests, _, _ := c.TestCounts()
		n += tests
	}
	return n
}

// TestCounts is what c counts for in the tests of a report (Tests, the
// Markdown's table): its cases that ran, failed or were skipped; a cell
// that ran with no JUnit cases is one test (its command), failed unless
// the cell passed. An error or cancelled cell ran nothing.
func (c CellResult) TestCounts() (tests, failed, skipped int) {
	if !c.Status.Ran() {
		return 0, 0, 0
	}
	if len(c.Cases) == 0 {
		if !c.Status.Passed() {
			failed = 1
		}
		return 1, failed, 0
	}
	for _, tc := range c.Cases {
		switch {
		case tc.Status == CaseSkip:
			skipped++
		case tc.Status.Failed():
			failed++
			tests++
		default:
			tests++
		}
	}
	return tests, failed, skipped
}

// Counts adds up the cells and cases of r by status.
func (r *Report) Counts() Counts {
	var n Counts
	if r == nil {
		return n
	}
	for _, c := range r.Cells {
		n.Cells++
		switch c.Status {
		case Pass:
			n.Pass++
		case Fail:
			n.Fail++
		case Flaky:
			n.Flaky++
		case Timeout:
			n.Timeout++
		case Error:
			n.Error++
		case Cancelled:
			n.Canceled++
		}
		for _, tc := range c.Cases {
			n.Cases++
			switch tc.Status {
			case CasePass:
				n.CasePass++
			case CaseFail:
				n.CaseFail++
			case CaseError:
				n.CaseError++
			case CaseSkip:
				n.CaseSkip++
			}
			if tc.Flaky {
				n.FlakyCases++
			}
		}
	}
	return n
}

// Validate checks what a reader of r relies on: the version, non-empty and
// unique cell ids, and known statuses.
func (r *Report) Validate() error {
	if r == nil {
		return errors.New("no report")
	}
	if r.Version != Version {
		return fmt.Errorf("report version %d is not supported (this slipway reads version %d)", r.Version, Version)
	}
	if r.Shard != "" {
		if _, _, err := parseShard(r.Shard); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(r.Cells))
	for i, c := range r.Cells {
		if c.ID == "" {
			return fmt.Errorf("cells[%d]: empty id", i)
		}
		if seen[c.ID] {
			return fmt.Errorf("cells[%d]: duplicate cell id %q", i, c.ID)
		}
		seen[c.ID] = true
		if !c.Status.Valid() {
			return fmt.Errorf("cell %q: unknown status %q", c.ID, c.Status)
		}
		if c.Attempts < 0 {
			return fmt.Errorf("cell %q: negative attempts", c.ID)
		}
		for j, tc := range c.Cases {
			if !tc.Status.Valid() {
				return fmt.Errorf("cell %q: cases[%d]: unknown status %q", c.ID, j, tc.Status)
			}
		}
	}
	for i, n := range r.NotRun {
		// Only a cell on a platform after the first can go unrun.
		if n.Platform == "" || !strings.HasSuffix(n.ID, "@"+n.Platform) {
			return fmt.Errorf("notRun[%d]: %q is not a cell of platform %q", i, n.ID, n.Platform)
		}
		if seen[n.ID] {
			return fmt.Errorf("notRun[%d]: cell %q is also a result", i, n.ID)
		}
		seen[n.ID] = true
	}
	return nil
}

// DuplicateCellsError is returned by Merge when shards overlap.
type DuplicateCellsError struct {
	// IDs of the cells found in more than one report, sorted.
	IDs []string
}

func (e *DuplicateCellsError) Error() string {
	return fmt.Sprintf("cells in more than one report (overlapping shards?): %s", strings.Join(e.IDs, ", "))
}

// parseShard reads a report's "i/n".
func parseShard(s string) (i, n int, err error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("shard %q is not i/n with 1 <= i <= n", s)
	}
	return i, n, nil
}

// Merge joins the reports of the shards of one run into one report. Cells
// keep the order of the reports and of the cells in them. A cell id in more
// than one report is a *DuplicateCellsError; reports of different images
// (digest) or revisions are an error. When the reports say which shard they
// hold, they must be every shard of one split, each once (a missing shard
// would otherwise go unseen without a baseline). Image and RunID come from
// the first report that has them; Shard is left empty.
func Merge(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("no reports to merge")
	}
	if err := checkShards(reports); err != nil {
		return nil, err
	}
	out := &Report{Version: Version}
	seen := map[string]bool{}
	dup := map[string]bool{}
	for i, r := range reports {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("report %d: %w", i+1, err)
		}
		for _, f := range []struct {
			name     string
			dst, src *string
			agree    bool
		}{
			{"digest", &out.Digest, &r.Digest, true},
			{"revision", &out.Revision, &r.Revision, true},
			{"image", &out.Image, &r.Image, false},
			{"run id", &out.RunID, &r.RunID, false},
		} {
			switch {
			case *f.src == "":
			case *f.dst == "":
				*f.dst = *f.src
			case f.agree && *f.dst != *f.src:
				return nil, fmt.Errorf("reports of different runs: %s %s and %s", f.name, *f.dst, *f.src)
			}
		}
		for _, c := range r.Cells {
			if seen[c.ID] {
				dup[c.ID] = true
				continue
			}
			seen[c.ID] = true
			out.Cells = append(out.Cells, c)
		}
		out.NotRun = append(out.NotRun, r.NotRun...)
	}
	if len(dup) > 0 {
		ids := make([]string, 0, len(dup))
		for id := range dup {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return nil, &DuplicateCellsError{IDs: ids}
	}
	if out.Cells == nil {
		out.Cells = []CellResult{}
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("the merged report: %w", err) // a cell not run in one shard and run in another
	}
	return out, nil
}

// checkShards checks that sharded reports are the shards 1..n of one split.
func checkShards(reports []*Report) error {
	n, sharded, first := 0, 0, ""
	have := map[int]bool{}
	for k, r := range reports {
		if r == nil || r.Shard == "" {
			continue
		}
		i, m, err := parseShard(r.Shard)
		if err != nil {
			return fmt.Errorf("report %d: %w", k+1, err)
		}
		switch {
		case n != 0 && m != n:
			return fmt.Errorf("shards of different splits: %s and %s", first, r.Shard)
		case have[i]:
			return fmt.Errorf("shard %s given twice", r.Shard)
		}
		if first == "" {
			first = r.Shard
		}
		n, have[i] = m, true
		sharded++
	}
	if sharded == 0 {
		return nil
	}
	if sharded != len(reports) {
		return errors.New("some reports are shards and some are not")
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if !have[i] {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing shards: %s", strings.Join(missing, ", "))
	}
	return nil
}

// MaxLogTail is how much of a cell's output a report keeps: the last 16 KiB.
const MaxLogTail = 16 << 10

// Tail returns the last max bytes of s (cut on a UTF-8 boundary), after a
// line saying how much was cut. s itself when it fits.
func Tail(s string, max int) string {
	if max < 0 {
		max = 0
	}
	if len(s) <= max {
		return s
	}
	cut := len(s) - max
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return fmt.Sprintf("[… %d bytes cut]\n", cut) + s[cut:]
}
