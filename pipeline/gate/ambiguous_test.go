package gate

import (
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// TestDecideAmbiguous: tests that share an identity (node's runner and
// jest-junit over two files, from the corpus) are judged as a group that
// fails closed.
func TestDecideAmbiguous(t *testing.T) {
	t.Parallel()
	noReg := config.Gate{Mode: config.ModeNoRegression, Flaky: config.FlakyWarn}
	cell := func(dir, variant string) *report.Report { return corpusReport(t, variant, dir) }
	// old drops what this version of the parser adds, as a report JSON
	// written before it holds the same cases.
	old := func(r *report.Report) *report.Report {
		for i := range r.Cells[0].Cases {
			r.Cells[0].Cases[i].Ambiguous, r.Cells[0].Cases[i].Occurrence = false, 0
		}
		return r
	}
	// drop removes the first case named name, as if its test were deleted
	// (a twin left alone is no longer ambiguous, as the parser would say).
	drop := func(r *report.Report, name string) *report.Report {
		cs := r.Cells[0].Cases
		left := []int{}
		for i, c := range cs {
			if strings.TrimSpace(c.Name) == name {
				left = append(left, i)
			}
		}
		r.Cells[0].Cases = append(cs[:left[0]:left[0]], cs[left[0]+1:]...)
		if len(left) == 2 {
			for i, c := range r.Cells[0].Cases {
				if strings.TrimSpace(c.Name) == name {
					r.Cells[0].Cases[i].Ambiguous, r.Cells[0].Cases[i].Occurrence = false, 0
				}
			}
		}
		return r
	}
	// passing leaves out the known failure (legacy) every shape file has.
	passing := func(r *report.Report) *report.Report {
		r = drop(r, "legacy")
		r.Cells[0].Status, r.Cells[0].Reason = report.Pass, ""
		return r
	}
	tests := []struct {
		name       string
		cfg        config.Gate
		cand, base *report.Report
		pass       bool
		reasons    []string
	}{
		{
			name: "a twin failing on both is not excused as known", cfg: noReg,
			cand: cell("node-shape", "cand"), base: cell("node-shape", "cand"),
			reasons: []string{"!ambiguous node-shape renders", "ambiguous node-shape", "known-failure node-shape legacy"},
		},
		{
			name: "a fixed twin passes", cfg: noReg,
			cand: cell("jest-shape", "base"), base: cell("jest-shape", "cand"),
			pass: true, reasons: []string{"ambiguous jest-shape", "known-failure jest-shape  legacy", "fixed jest-shape  renders [testsuite #1]"},
		},
		{
			name: "a twin that no longer runs is dropped", cfg: noReg,
			cand: drop(cell("node-shape", "base"), "renders"), base: cell("node-shape", "base"),
			reasons: []string{"!dropped node-shape renders", "known-failure node-shape legacy"},
		},
		{
			name: "allowDropped lets a dropped twin pass", cfg: config.Gate{AllowDropped: true},
			cand: drop(cell("node-shape", "base"), "renders"), base: cell("node-shape", "base"),
			pass: true, reasons: []string{"known-failure node-shape legacy", "dropped node-shape renders"},
		},
		{
			name: "twins new to the cell that fail are new failures", cfg: noReg,
			cand: cell("node-shape", "cand"), base: drop(drop(cell("node-shape", "base"), "renders"), "renders"),
			reasons: []string{"!new-failure node-shape renders", "ambiguous node-shape", "known-failure node-shape legacy"},
		},
		{
			name: "a report written before identities: duplicates are still a group", cfg: noReg,
			cand: old(cell("jest-shape", "cand")), base: old(cell("jest-shape", "base")),
			reasons: []string{"!regression jest-shape  renders", "ambiguous jest-shape", "known-failure jest-shape  legacy"},
		},
		{
			name: "strict: a failing twin blocks, with the warning", cfg: config.Gate{Mode: config.ModeStrict},
			cand:    cell("node-shape", "cand"),
			reasons: []string{"!failure node-shape legacy", "!failure node-shape renders", "ambiguous node-shape"},
		},
		{
			name: "strict: passing twins pass, with the warning", cfg: config.Gate{Mode: config.ModeStrict},
			cand: passing(cell("jest-shape", "base")),
			pass: true, reasons: []string{"ambiguous jest-shape"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(tt.cfg, tt.cand, tt.base)
			if d.Pass != tt.pass {
				t.Errorf("pass = %v, want %v", d.Pass, tt.pass)
			}
			if got := short(d.Reasons); !reflect.DeepEqual(got, tt.reasons) {
				t.Errorf("reasons:\n got %q\nwant %q\n%s", got, tt.reasons, strings.Join(reasonLines(d), "\n"))
			}
			for _, r := range d.Reasons {
				if r.Kind == FlakyResult {
					t.Errorf("twins read as reruns: %s", r)
				}
				if r.Kind == Ambiguous && !strings.Contains(r.Message, "to tell them apart") && !strings.Contains(r.Message, "identity shared by") {
					t.Errorf("no hint: %s", r)
				}
			}
		})
	}
}
