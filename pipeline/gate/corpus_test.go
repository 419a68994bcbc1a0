package gate

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// corpusCell reads testdata/corpus/DIR/VARIANT.xml, JUnit written by the
// real tool (regen.sh), into a cell the way the module makes one: the cell
// fails when a case fails (the tools exit non-zero then).
func corpusCell(t testing.TB, dir, variant string) report.CellResult {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus", dir, variant+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := report.ParseJUnit(f)
	if err != nil {
		t.Fatalf("%s/%s: %v", dir, variant, err)
	}
	c := report.CellResult{ID: dir, Status: report.Pass, Attempts: 1, Cases: cases}
	if slices.ContainsFunc(cases, func(c report.Case) bool { return c.Status.Failed() }) {
		c.Status, c.ExitCode, c.Reason = report.Fail, 1, "exit code 1"
	}
	return c
}

func corpusReport(t testing.TB, variant string, dirs ...string) *report.Report {
	r := &report.Report{Version: report.Version, Digest: "sha256:" + variant}
	for _, d := range dirs {
		r.Cells = append(r.Cells, corpusCell(t, d, variant))
	}
	return r
}

// TestCorpus: every tool's own JUnit, baseline against candidate, with the
// gate's decision and every reason. Each tool's pair holds a regression
// (breaks), a fix, a known failure, a new failing test (added), a removed
// test, a skip and, where the tool reruns, a flaky test; the *-shape pairs
// are tests that share suite, classname and name, broken in one place.
func TestCorpus(t *testing.T) {
	t.Parallel()
	warn := config.Gate{Mode: config.ModeNoRegression, Flaky: config.FlakyWarn}
	fail := config.Gate{Mode: config.ModeNoRegression, Flaky: config.FlakyFail}
	// The reasons every tool's main pair gives (case by its last part).
	common := func(dir string, cased func(string) string, extra ...string) []string {
		r := []string{"!new-failure " + dir + " " + cased("added"), "!dropped " + dir + " " + cased("removed"),
			"!regression " + dir + " " + cased("breaks"), "known-failure " + dir + " " + cased("known"),
			"fixed " + dir + " " + cased("fixed")}
		return append(r, extra...)
	}
	same := func(s string) string { return s }
	shape := func(dir, broken string, ambiguous bool, known ...string) []string {
		r := []string{"!regression " + dir + " " + broken}
		for _, k := range known {
			r = append(r, "known-failure "+dir+" "+k)
		}
		if ambiguous {
			r = append(r, "ambiguous "+dir)
		}
		return r
	}
	goName := func(s string) string { return "Test" + strings.ToUpper(s[:1]) + s[1:] }
	mocha := func(s string) string { return "cart " + s }
	jest := func(s string) string { return "cart " + s }
	vitest := func(s string) string { return "cart > " + s }
	pytest := func(s string) string { return "test_" + s }

	tests := []struct {
		dir     string
		cfg     config.Gate
		pass    bool
		reasons []string
	}{
		{dir: "gotestsum", cfg: warn, reasons: common("gotestsum", goName, "flaky gotestsum TestFlaky")},
		{dir: "gotestsum", cfg: fail, reasons: append([]string{"!flaky gotestsum TestFlaky"}, common("gotestsum", goName)...)},
		// A parent fails with its subtests (go test and gotestsum fail it
		// too): one reason a failing subtest, none for the parent; a parent
		// failing on its own, its subtest passing, is a reason of its own.
		{dir: "gotestsum-subtests", cfg: warn, reasons: []string{"!regression gotestsum-subtests TestOptions/IgnoreFields",
			"!regression gotestsum-subtests TestOptions/SortSlices", "!regression gotestsum-subtests TestTeardown"}},
		// go test without reruns: the flaky test's one attempt failed.
		{dir: "go-junit-report", cfg: warn, reasons: common("go-junit-report", goName, "!regression go-junit-report TestFlaky")},
		// pytest-rerunfailures writes only the last attempt: test_flaky passes.
		// xfail is a skip, xpass a pass; the fixture error fails on both (known).
		{dir: "pytest", cfg: warn, reasons: common("pytest", pytest, "known-failure pytest test_needs_db")},
		{dir: "jest", cfg: warn, reasons: common("jest", jest)},
		{dir: "mocha", cfg: warn, reasons: common("mocha", mocha)},
		{dir: "vitest", cfg: warn, reasons: common("vitest", vitest)},
		{dir: "node", cfg: warn, reasons: common("node", same)},
		{dir: "bats", cfg: warn, reasons: common("bats", same)},
		{dir: "playwright", cfg: warn, reasons: common("playwright", same, "flaky playwright flaky")},

		// The three shapes: the candidate breaks `renders` in one place; a
		// known failure (legacy) fails the cell on both sides, so only the
		// cases can tell (before identities, all three passed as "flaky").
		{dir: "playwright-shape", cfg: warn, reasons: shape("playwright-shape", "renders [hostname=webkit]", false,
			"legacy [hostname=chromium]", "legacy [hostname=firefox]", "legacy [hostname=webkit]")},
		{dir: "playwright-shape", cfg: fail, reasons: shape("playwright-shape", "renders [hostname=webkit]", false,
			"legacy [hostname=chromium]", "legacy [hostname=firefox]", "legacy [hostname=webkit]")},
		{dir: "node-shape", cfg: warn, reasons: shape("node-shape", "renders", true, "legacy")},
		{dir: "node-shape", cfg: fail, reasons: shape("node-shape", "renders", true, "legacy")},
		// jest-junit's suites come in the order the files finished: the
		// position shown is this run's.
		{dir: "jest-shape", cfg: warn, reasons: shape("jest-shape", " renders [testsuite #2]", true, " legacy")},
		{dir: "jest-shape", cfg: fail, reasons: shape("jest-shape", " renders [testsuite #2]", true, " legacy")},
		// Real reruns are still flaky.
		{dir: "playwright-retries", cfg: warn, pass: true, reasons: []string{"flaky playwright-retries renders [hostname=webkit]"}},
		{dir: "playwright-retries", cfg: fail, reasons: []string{"!flaky playwright-retries renders [hostname=webkit]"}},
	}
	// The parent left to its subtests is said, with them.
	sub := Decide(warn, corpusReport(t, "cand", "gotestsum-subtests"), corpusReport(t, "base", "gotestsum-subtests"))
	const pkg = "example.com/cmp › "
	want := []Parent{{Cell: "gotestsum-subtests", Case: pkg + "TestOptions", Subtests: []string{pkg + "TestOptions/IgnoreFields", pkg + "TestOptions/SortSlices"}}}
	if !reflect.DeepEqual(sub.Parents, want) {
		t.Errorf("parents %+v, want %+v", sub.Parents, want)
	}
	if md := sub.Markdown(); !strings.Contains(md, "### Parent tests") ||
		!strings.Contains(md, "- `"+pkg+"TestOptions` in `gotestsum-subtests`: fails with `"+pkg+"TestOptions/IgnoreFields`, `"+pkg+"TestOptions/SortSlices`\n") {
		t.Errorf("the summary does not say how TestOptions was counted:\n%s", md)
	}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.cfg.Flaky, func(t *testing.T) {
			t.Parallel()
			d := Decide(tt.cfg, corpusReport(t, "cand", tt.dir), corpusReport(t, "base", tt.dir))
			if d.Pass != tt.pass {
				t.Errorf("pass = %v, want %v", d.Pass, tt.pass)
			}
			// The order is TestDecide's; here, the set.
			got, want := short(d.Reasons), slices.Clone(tt.reasons)
			slices.Sort(got)
			slices.Sort(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("reasons:\n got %q\nwant %q\n%s", got, want, strings.Join(reasonLines(d), "\n"))
			}
		})
	}
}

// TestCorpusCounts: what the parser reads from each corpus file agrees with
// the counts the tool itself printed (recorded beside the file in .txt):
// passed includes flaky passes, failed includes errors. Where a tool
// counts differently, the row says how.
func TestCorpusCounts(t *testing.T) {
	t.Parallel()
	type counts struct{ cases, passed, failed, skipped, flaky int }
	tests := []struct {
		file string
		want counts
	}{
		// gotestsum: the first run's "DONE 7 tests, 1 skipped, 2 failures";
		// its later lines count every rerun attempt, which become one case.
		{"gotestsum/base", counts{7, 4, 2, 1, 0}},
		// "DONE 7 tests, 1 skipped, 4 failures", then TestFlaky passed its rerun.
		{"gotestsum/cand", counts{7, 3, 3, 1, 1}},
		// "DONE 7 tests" and "DONE 7 tests, 4 failures": parents and
		// subtests are each a test, and a parent fails with its subtests.
		{"gotestsum-subtests/base", counts{7, 7, 0, 0, 0}},
		{"gotestsum-subtests/cand", counts{7, 3, 4, 0, 0}},
		// go test prints no totals: the file's own tests="7" failures="2" skipped="1".
		{"go-junit-report/base", counts{7, 4, 2, 1, 0}},
		{"go-junit-report/cand", counts{7, 2, 4, 1, 0}},
		// "2 failed, 6 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error, 3
		// rerun": in JUnit an xfail is a skip and an xpass a pass; reruns
		// are not in the file.
		{"pytest/base", counts{12, 7, 3, 2, 0}},
		// "3 failed, 5 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error, 5 rerun".
		{"pytest/cand", counts{12, 6, 4, 2, 0}},
		{"jest/base", counts{6, 3, 2, 1, 0}},       // "2 failed, 1 skipped, 3 passed, 6 total"
		{"jest/cand", counts{6, 2, 3, 1, 0}},       // "3 failed, 1 skipped, 2 passed, 6 total"
		{"jest-shape/base", counts{3, 2, 1, 0, 0}}, // "1 failed, 2 passed, 3 total"
		{"jest-shape/cand", counts{3, 1, 2, 0, 0}}, // "2 failed, 1 passed, 3 total"
		{"mocha/base", counts{6, 3, 2, 1, 0}},      // "3 passing, 1 pending, 2 failing"
		{"mocha/cand", counts{6, 2, 3, 1, 0}},      // "2 passing, 1 pending, 3 failing"
		{"vitest/base", counts{6, 3, 2, 1, 0}},
		{"vitest/cand", counts{6, 2, 3, 1, 0}},
		{"node/base", counts{6, 3, 2, 1, 0}},
		{"node/cand", counts{6, 2, 3, 1, 0}},
		{"node-shape/base", counts{3, 2, 1, 0, 0}},
		{"node-shape/cand", counts{3, 1, 2, 0, 0}},
		{"bats/base", counts{6, 3, 2, 1, 0}},
		{"bats/cand", counts{6, 2, 3, 1, 0}},
		{"playwright/base", counts{7, 4, 2, 1, 0}},       // "2 failed, 1 skipped, 4 passed"
		{"playwright/cand", counts{7, 3, 3, 1, 1}},       // "3 failed, 1 flaky, 1 skipped, 2 passed"
		{"playwright-shape/base", counts{6, 3, 3, 0, 0}}, // "3 failed, 3 passed"
		{"playwright-shape/cand", counts{6, 2, 4, 0, 0}}, // "4 failed, 2 passed"
		{"playwright-retries/base", counts{3, 3, 0, 0, 0}},
		{"playwright-retries/cand", counts{3, 3, 0, 0, 1}}, // "1 flaky, 2 passed"
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			dir, variant, _ := strings.Cut(tt.file, "/")
			var got counts
			for _, c := range corpusCell(t, dir, variant).Cases {
				got.cases++
				switch {
				case c.Status == report.CasePass:
					got.passed++
				case c.Status.Failed():
					got.failed++
				case c.Status == report.CaseSkip:
					got.skipped++
				}
				if c.Flaky {
					got.flaky++
				}
			}
			if got != tt.want {
				t.Errorf("read %+v, the tool counted %+v", got, tt.want)
			}
		})
	}
	// Every corpus file is in the table.
	files, _ := filepath.Glob("testdata/corpus/*/*.xml")
	if len(files) != len(tests) {
		t.Errorf("%d corpus files, %d rows", len(files), len(tests))
	}
}
