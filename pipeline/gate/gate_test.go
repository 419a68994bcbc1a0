package gate

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// junit reads a fixture: gotestsum, pytest, Maven Surefire and jest-junit
// files in those tools' own formats.
func junit(t testing.TB, file string) []report.Case {
	t.Helper()
	if file == "" {
		return nil
	}
	f, err := os.Open("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := report.ParseJUnit(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return cases
}

type cellSpec struct {
	id     string
	status report.Status
	file   string
}

func rep(t testing.TB, cells ...cellSpec) *report.Report {
	r := &report.Report{Version: report.Version, Digest: "sha256:c0ffee", Cells: []report.CellResult{}}
	for _, c := range cells {
		res := report.CellResult{ID: c.id, Status: c.status, Attempts: 1, Cases: junit(t, c.file)}
		if !c.status.Passed() {
			res.Reason = "because " + string(c.status)
		}
		r.Cells = append(r.Cells, res)
	}
	return r
}

// short renders a reason as "!kind cell case" ("!" when it blocks), the
// case by its last part.
func short(rs []Reason) []string {
	out := []string{}
	for _, r := range rs {
		s := string(r.Kind)
		if r.Blocking {
			s = "!" + s
		}
		if r.Cell != "" {
			s += " " + r.Cell
		}
		if r.Case != "" {
			parts := strings.Split(r.Case, " › ")
			s += " " + parts[len(parts)-1]
		}
		if r.Finding != "" {
			s += " " + r.Finding
		}
		out = append(out, s)
	}
	return out
}

func TestDecide(t *testing.T) {
	t.Parallel()
	noReg := config.Gate{Mode: config.ModeNoRegression, Flaky: config.FlakyWarn}
	strict := config.Gate{Mode: config.ModeStrict, Flaky: config.FlakyWarn}
	with := func(g config.Gate, f func(*config.Gate)) config.Gate { f(&g); return g }
	goPass := cellSpec{"unit", report.Pass, "gotestsum-pass.xml"}

	tests := []struct {
		name      string
		cfg       config.Gate
		cand      *report.Report
		base      *report.Report
		nilBase   bool
		pass      bool
		mode      string
		reasons   []string
		wantTests int
	}{
		{
			name: "strict: everything passes", cfg: strict, nilBase: true,
			cand: rep(t, goPass),
			pass: true, mode: "strict", reasons: []string{}, wantTests: 3,
		},
		{
			name: "strict: failing cases and cell block", cfg: strict, nilBase: true,
			cand: rep(t, cellSpec{"unit", report.Fail, "gotestsum-cand.xml"}),
			mode: "strict", reasons: []string{"!failure unit TestLegacyCoupon", "!failure unit TestNewTax", "!failure unit TestTotal"},
		},
		{
			name: "strict ignores the baseline", cfg: strict,
			cand: rep(t, cellSpec{"unit", report.Fail, "gotestsum-base.xml"}), base: rep(t, cellSpec{"unit", report.Fail, "gotestsum-base.xml"}),
			mode: "strict", reasons: []string{"!failure unit TestLegacyCoupon", "!failure unit TestRounding"},
		},
		{
			name: "no baseline: judged strict, passes", cfg: noReg, nilBase: true,
			cand: rep(t, goPass),
			pass: true, mode: "strict", reasons: []string{"no-baseline"},
		},
		{
			name: "no baseline: judged strict, blocks", cfg: config.Gate{}, nilBase: true,
			cand: rep(t, cellSpec{"web", report.Pass, "jest-cand.xml"}, cellSpec{"api", report.Fail, "pytest-base.xml"}),
			mode: "strict", reasons: []string{"!failure api test_logout", "!failure api test_token_refresh", "no-baseline"},
		},
		{
			name: "no-regression: same results pass", cfg: noReg,
			cand: rep(t, goPass), base: rep(t, goPass),
			pass: true, mode: "no-regression", reasons: []string{},
		},
		{
			name: "gotestsum: regression, new failure and dropped block; known and fixed reported", cfg: noReg,
			cand: rep(t, cellSpec{"unit", report.Fail, "gotestsum-cand.xml"}), base: rep(t, cellSpec{"unit", report.Fail, "gotestsum-base.xml"}),
			mode: "no-regression",
			reasons: []string{"!new-failure unit TestNewTax", "!dropped unit TestRemoveItem", "!regression unit TestTotal",
				"known-failure unit TestLegacyCoupon", "fixed unit TestRounding"},
		},
		{
			name: "allowDropped: dropped is reported, the regression still blocks", cfg: with(noReg, func(g *config.Gate) { g.AllowDropped = true }),
			cand: rep(t, cellSpec{"unit", report.Fail, "gotestsum-cand.xml"}), base: rep(t, cellSpec{"unit", report.Fail, "gotestsum-base.xml"}),
			mode: "no-regression",
			reasons: []string{"!new-failure unit TestNewTax", "!regression unit TestTotal",
				"known-failure unit TestLegacyCoupon", "dropped unit TestRemoveItem", "fixed unit TestRounding"},
		},
		{
			name: "pytest: fixed and known failure pass; new passing and new skipped cases are fine", cfg: noReg,
			cand: rep(t, cellSpec{"api", report.Fail, "pytest-cand.xml"}), base: rep(t, cellSpec{"api", report.Fail, "pytest-base.xml"}),
			pass: true, mode: "no-regression",
			reasons: []string{"fixed api test_logout", "known-failure api test_token_refresh"},
		},
		{
			name: "surefire: flakyFailure warns, rerunFailure on both is known", cfg: noReg,
			cand: rep(t, cellSpec{"java", report.Fail, "TEST-surefire-cand.xml"}), base: rep(t, cellSpec{"java", report.Fail, "TEST-surefire-base.xml"}),
			pass: true, mode: "no-regression",
			reasons: []string{"known-failure java appliesDiscount", "flaky java removesItem"},
		},
		{
			name: "surefire: flaky fail blocks", cfg: with(noReg, func(g *config.Gate) { g.Flaky = config.FlakyFail }),
			cand: rep(t, cellSpec{"java", report.Fail, "TEST-surefire-cand.xml"}), base: rep(t, cellSpec{"java", report.Fail, "TEST-surefire-base.xml"}),
			mode:    "no-regression",
			reasons: []string{"!flaky java removesItem", "known-failure java appliesDiscount"},
		},
		{
			name: "strict: flaky case under warn passes", cfg: strict, nilBase: true,
			cand: rep(t, cellSpec{"java", report.Pass, "TEST-surefire-cand.xml"}),
			mode: "strict", reasons: []string{"!failure java appliesDiscount", "flaky java removesItem"},
		},
		{
			name: "jest: a case now skipped is dropped", cfg: noReg,
			cand: rep(t, cellSpec{"web", report.Pass, "jest-cand.xml"}), base: rep(t, cellSpec{"web", report.Pass, "jest-base.xml"}),
			mode: "no-regression", reasons: []string{"!dropped web cart computes the total"},
		},
		{
			name: "jest: allowDropped lets it pass", cfg: with(noReg, func(g *config.Gate) { g.AllowDropped = true }),
			cand: rep(t, cellSpec{"web", report.Pass, "jest-cand.xml"}), base: rep(t, cellSpec{"web", report.Pass, "jest-base.xml"}),
			pass: true, mode: "no-regression", reasons: []string{"dropped web cart computes the total"},
		},
		{
			name: "gotestsum --rerun-fails: fail then pass of one case is flaky", cfg: noReg,
			cand: rep(t, cellSpec{"unit", report.Pass, "gotestsum-rerun.xml"}), base: rep(t, goPass),
			pass: true, mode: "no-regression", reasons: []string{"flaky unit TestTotal"},
		},
		{
			name: "a missing cell blocks", cfg: noReg,
			cand: rep(t, goPass), base: rep(t, goPass, cellSpec{"e2e-1-firefox", report.Pass, "jest-base.xml"}),
			mode: "no-regression", reasons: []string{"!missing-cell e2e-1-firefox"},
		},
		{
			name: "a missing cell blocks even when it failed on the baseline", cfg: noReg,
			cand: rep(t, goPass), base: rep(t, goPass, cellSpec{"e2e", report.Error, ""}),
			mode: "no-regression", reasons: []string{"!missing-cell e2e"},
		},
		{
			name: "a cell that passed and now times out is a regression", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"e2e", report.Timeout, ""}), base: rep(t, goPass, cellSpec{"e2e", report.Pass, "jest-base.xml"}),
			mode: "no-regression", reasons: []string{"!regression e2e"},
		},
		{
			name: "a failing cell whose cases all pass is a regression", cfg: noReg,
			cand: rep(t, cellSpec{"unit", report.Fail, "gotestsum-pass.xml"}), base: rep(t, goPass),
			mode: "no-regression", reasons: []string{"!regression unit"},
		},
		{
			name: "a passing cell that lost its JUnit drops every case", cfg: noReg,
			cand: rep(t, cellSpec{"unit", report.Pass, ""}), base: rep(t, goPass),
			mode:    "no-regression",
			reasons: []string{"!dropped unit TestAddItem", "!dropped unit TestRemoveItem", "!dropped unit TestTotal"},
		},
		{
			name: "a timed-out cell on both is a known failure", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"e2e", report.Timeout, ""}), base: rep(t, goPass, cellSpec{"e2e", report.Timeout, ""}),
			pass: true, mode: "no-regression", reasons: []string{"known-failure e2e"},
		},
		{
			name: "a candidate error never passes, whatever the baseline", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"e2e", report.Error, ""}), base: rep(t, goPass, cellSpec{"e2e", report.Error, ""}),
			mode: "no-regression", reasons: []string{"!error e2e", "baseline-unusable e2e"},
		},
		{
			name: "a candidate error blocks in strict mode", cfg: strict, nilBase: true,
			cand: rep(t, goPass, cellSpec{"e2e", report.Error, ""}),
			mode: "strict", reasons: []string{"!error e2e"},
		},
		{
			name: "a baseline error: the candidate cell passes outright", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"e2e", report.Pass, "jest-base.xml"}), base: rep(t, goPass, cellSpec{"e2e", report.Error, ""}),
			pass: true, mode: "no-regression", reasons: []string{"baseline-unusable e2e"},
		},
		{
			name: "a baseline error: failures in that cell cannot be excused", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"api", report.Fail, "pytest-cand.xml"}), base: rep(t, goPass, cellSpec{"api", report.Error, ""}),
			mode: "no-regression", reasons: []string{"!failure api test_token_refresh", "baseline-unusable api"},
		},
		{
			name: "a baseline cancelled cell is no evidence either", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"e2e", report.Pass, "jest-base.xml"}), base: rep(t, goPass, cellSpec{"e2e", report.Cancelled, ""}),
			pass: true, mode: "no-regression", reasons: []string{"baseline-unusable e2e"},
		},
		{
			name: "a cancelled candidate cell blocks", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"e2e", report.Cancelled, ""}), base: rep(t, goPass, cellSpec{"e2e", report.Pass, ""}),
			mode: "no-regression", reasons: []string{"!cancelled e2e"},
		},
		{
			name: "a flaky cell warns", cfg: noReg,
			cand: rep(t, cellSpec{"unit", report.Flaky, "gotestsum-pass.xml"}), base: rep(t, goPass),
			pass: true, mode: "no-regression", reasons: []string{"flaky unit"},
		},
		{
			name: "a flaky cell blocks with flaky: fail", cfg: with(noReg, func(g *config.Gate) { g.Flaky = config.FlakyFail }),
			cand: rep(t, cellSpec{"unit", report.Flaky, "gotestsum-pass.xml"}), base: rep(t, goPass),
			mode: "no-regression", reasons: []string{"!flaky unit"},
		},
		{
			name: "a new cell that fails blocks", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"lint", report.Fail, ""}), base: rep(t, goPass),
			mode: "no-regression", reasons: []string{"!new-failure lint"},
		},
		{
			name: "a new cell with a failing case blocks", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"api", report.Fail, "pytest-cand.xml"}), base: rep(t, goPass),
			mode: "no-regression", reasons: []string{"!new-failure api test_token_refresh"},
		},
		{
			name: "a new passing cell is fine", cfg: noReg,
			cand: rep(t, goPass, cellSpec{"web", report.Pass, "jest-base.xml"}), base: rep(t, goPass),
			pass: true, mode: "no-regression", reasons: []string{},
		},
		{
			name: "zero tests: every case skipped", cfg: strict, nilBase: true,
			cand: rep(t, cellSpec{"unit", report.Pass, "gotestsum-skipped.xml"}),
			mode: "strict", reasons: []string{"!no-tests"},
		},
		{
			name: "zero tests: no cells, even against an empty baseline", cfg: noReg,
			cand: rep(t), base: rep(t),
			mode: "no-regression", reasons: []string{"!no-tests"},
		},
		{
			name: "zero tests: only errored cells", cfg: noReg, nilBase: true,
			cand: rep(t, cellSpec{"unit", report.Error, ""}),
			mode: "strict", reasons: []string{"!no-tests", "!error unit", "no-baseline"},
		},
		{
			name: "zero tests: no candidate report", cfg: noReg, cand: nil, base: rep(t, goPass),
			mode: "no-regression", reasons: []string{"!no-tests"},
		},
		{
			name: "unknown mode fails closed", cfg: config.Gate{Mode: "lenient"}, nilBase: true,
			cand: rep(t, goPass),
			mode: "strict", reasons: []string{"!invalid-config"},
		},
		{
			name: "unknown flaky policy fails closed", cfg: config.Gate{Flaky: "ignore"},
			cand: rep(t, goPass), base: rep(t, goPass),
			mode: "no-regression", reasons: []string{"!invalid-config"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := tt.base
			if tt.nilBase {
				base = nil
			}
			d := Decide(tt.cfg, tt.cand, base)
			if d.Pass != tt.pass || d.Mode != tt.mode {
				t.Errorf("pass %v mode %s, want pass %v mode %s", d.Pass, d.Mode, tt.pass, tt.mode)
			}
			if got := short(d.Reasons); !reflect.DeepEqual(got, tt.reasons) {
				t.Errorf("reasons:\n got %q\nwant %q\n%s", got, tt.reasons, strings.Join(reasonLines(d), "\n"))
			}
			if tt.wantTests != 0 && d.Tests != tt.wantTests {
				t.Errorf("tests = %d, want %d", d.Tests, tt.wantTests)
			}
			for _, r := range d.Reasons {
				if r.Message == "" {
					t.Errorf("%s: empty message", r)
				}
			}
			if d.Pass != (len(d.Blocking()) == 0) {
				t.Error("Pass disagrees with the blocking reasons")
			}
		})
	}
}

func reasonLines(d Decision) []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, fmt.Sprintf("  blocking=%v %s", r.Blocking, r))
	}
	return out
}

// TestDecideSkippedThenFailing: a case the baseline skipped and the
// candidate fails is a new failure, not a regression.
func TestDecideSkippedThenFailing(t *testing.T) {
	t.Parallel()
	base := rep(t, cellSpec{"unit", report.Pass, "gotestsum-pass.xml"})
	cand := rep(t, cellSpec{"unit", report.Fail, "gotestsum-pass.xml"})
	for i, c := range cand.Cells[0].Cases {
		if c.Name == "TestSlowCheckout" {
			cand.Cells[0].Cases[i].Status, cand.Cells[0].Cases[i].Message = report.CaseFail, "slow checkout: 31s > 30s"
		}
	}
	base.Cells[0].Status = report.Fail // a failing cell on both: only the case decides
	d := Decide(config.Gate{}, cand, base)
	if got := short(d.Reasons); !reflect.DeepEqual(got, []string{"!new-failure unit TestSlowCheckout"}) {
		t.Errorf("reasons %q", got)
	}
}

// TestDecideDeterministic: the order of cells and cases in the reports does
// not change the decision.
func TestDecideDeterministic(t *testing.T) {
	t.Parallel()
	mk := func() (*report.Report, *report.Report) {
		cand := rep(t, cellSpec{"unit", report.Fail, "gotestsum-cand.xml"}, cellSpec{"api", report.Fail, "pytest-cand.xml"},
			cellSpec{"java", report.Fail, "TEST-surefire-cand.xml"}, cellSpec{"web", report.Pass, "jest-cand.xml"},
			cellSpec{"node", report.Fail, "corpus/node-shape/cand.xml"}, cellSpec{"jest", report.Fail, "corpus/jest-shape/cand.xml"})
		base := rep(t, cellSpec{"unit", report.Fail, "gotestsum-base.xml"}, cellSpec{"api", report.Fail, "pytest-base.xml"},
			cellSpec{"java", report.Fail, "TEST-surefire-base.xml"}, cellSpec{"web", report.Pass, "jest-base.xml"}, cellSpec{"gone", report.Pass, ""},
			cellSpec{"node", report.Fail, "corpus/node-shape/cand.xml"}, cellSpec{"jest", report.Fail, "corpus/jest-shape/base.xml"})
		return cand, base
	}
	cand, base := mk()
	want := Decide(config.Gate{}, cand, base)
	if len(want.Reasons) < 10 {
		t.Fatalf("only %d reasons", len(want.Reasons))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		cand, base := mk()
		for _, r := range []*report.Report{cand, base} {
			rng.Shuffle(len(r.Cells), func(i, j int) { r.Cells[i], r.Cells[j] = r.Cells[j], r.Cells[i] })
			for _, c := range r.Cells {
				rng.Shuffle(len(c.Cases), func(i, j int) { c.Cases[i], c.Cases[j] = c.Cases[j], c.Cases[i] })
			}
		}
		if got := Decide(config.Gate{}, cand, base); !reflect.DeepEqual(got, want) {
			t.Fatalf("decision depends on input order:\n%q\n%q", short(got.Reasons), short(want.Reasons))
		}
	}
}

func ExampleDecide() {
	base := &report.Report{Version: report.Version, Cells: []report.CellResult{{ID: "unit", Status: report.Fail, Cases: []report.Case{
		{Name: "TestAdd", Status: report.CasePass}, {Name: "TestLegacy", Status: report.CaseFail},
	}}}}
	cand := &report.Report{Version: report.Version, Cells: []report.CellResult{{ID: "unit", Status: report.Fail, Cases: []report.Case{
		{Name: "TestAdd", Status: report.CaseFail, Message: "1+1 = 3"}, {Name: "TestLegacy", Status: report.CaseFail},
	}}}}
	d := Decide(config.Gate{Mode: config.ModeNoRegression}, cand, base)
	fmt.Println("pass:", d.Pass)
	for _, r := range d.Reasons {
		fmt.Printf("blocking=%v %s\n", r.Blocking, r)
	}
	// Output:
	// pass: false
	// blocking=true regression unit › TestAdd: passes on the baseline: fail: 1+1 = 3
	// blocking=false known-failure unit › TestLegacy: fail on the baseline too: fail
}
