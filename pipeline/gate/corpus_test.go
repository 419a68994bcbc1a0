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
			"!regression " + dir + " " + cased("breaks"), "known-failure " + dir, "known-failure " + dir + " " + cased("known"),
			"fixed " + dir + " " + cased("fixed")}
		return append(r, extra...)
	}
	same := func(s string) string { return s }
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
		// go test without reruns: the flaky test's one attempt failed.
		{dir: "go-junit-report", cfg: warn, reasons: common("go-junit-report", goName, "!regression go-junit-report TestFlaky")},
		// pytest-rerunfailures writes only the last attempt: test_flaky passes.
		// xfail is a skip; the fixture error fails on both (known).
		{dir: "pytest", cfg: warn, reasons: common("pytest", pytest, "known-failure pytest test_needs_db")},
		{dir: "jest", cfg: warn, reasons: common("jest", jest)},
		{dir: "mocha", cfg: warn, reasons: common("mocha", mocha)},
		{dir: "vitest", cfg: warn, reasons: common("vitest", vitest)},
		{dir: "node", cfg: warn, reasons: common("node", same)},
		{dir: "bats", cfg: warn, reasons: common("bats", same)},
		{dir: "playwright", cfg: warn, reasons: common("playwright", same, "flaky playwright flaky")},

		// The three shapes: the candidate breaks `renders` in one place.
		{dir: "playwright-shape", cfg: warn, reasons: []string{"!regression playwright-shape", "!regression playwright-shape renders [hostname=webkit]"}},
		{dir: "playwright-shape", cfg: fail, reasons: []string{"!regression playwright-shape", "!regression playwright-shape renders [hostname=webkit]"}},
		{dir: "node-shape", cfg: warn, reasons: []string{"!regression node-shape", "!regression node-shape renders", "ambiguous node-shape"}},
		{dir: "node-shape", cfg: fail, reasons: []string{"!regression node-shape", "!regression node-shape renders", "ambiguous node-shape"}},
		{dir: "jest-shape", cfg: warn, reasons: []string{"!regression jest-shape", "!regression jest-shape  renders [testsuite #1]", "ambiguous jest-shape"}},
		{dir: "jest-shape", cfg: fail, reasons: []string{"!regression jest-shape", "!regression jest-shape  renders [testsuite #1]", "ambiguous jest-shape"}},
		// Real reruns are still flaky.
		{dir: "playwright-retries", cfg: warn, pass: true, reasons: []string{"flaky playwright-retries renders [hostname=webkit]"}},
		{dir: "playwright-retries", cfg: fail, reasons: []string{"!flaky playwright-retries renders [hostname=webkit]"}},
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
