package gate

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// cellOf builds a cell result from its cases ("name=pass|fail|error|skip").
func cellOf(id string, status report.Status, exit int, cases ...string) report.CellResult {
	c := report.CellResult{ID: id, Status: status, ExitCode: exit, Attempts: 1}
	for _, spec := range cases {
		name, st, _ := strings.Cut(spec, "=")
		c.Cases = append(c.Cases, report.Case{Suite: "pkg", Name: name, Status: report.CaseStatus(st), Message: st + "ed"})
	}
	if !status.Passed() {
		c.Reason = fmt.Sprintf("exit code %d", exit)
	}
	return c
}

func reportOf(cells ...report.CellResult) *report.Report {
	return &report.Report{Version: report.Version, Digest: "sha256:c0ffee", Cells: cells}
}

// TestReasonsAddUp: one reason per failing test, the cell's own reason only
// where no case explains it, a Go parent test folded into its failing
// subtest, and a baseline that could not run a suite is no evidence.
func TestReasonsAddUp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		cand, base *report.Report
		pass       bool
		reasons    []string
	}{{
		name:    "two failing subtests: two reasons, not the cell's and the parent's too",
		cand:    reportOf(cellOf("unit", report.Fail, 1, "TestCart=fail", "TestCart/total=fail", "TestCart/tax=fail", "TestOther=pass")),
		base:    reportOf(cellOf("unit", report.Pass, 0, "TestCart=pass", "TestCart/total=pass", "TestCart/tax=pass", "TestOther=pass")),
		reasons: []string{"!regression unit TestCart/tax", "!regression unit TestCart/total"},
	}, {
		name:    "a cell whose only failing case is new is not a regression",
		cand:    reportOf(cellOf("unit", report.Fail, 1, "TestOld=pass", "TestNew=fail")),
		base:    reportOf(cellOf("unit", report.Pass, 0, "TestOld=pass")),
		reasons: []string{"!new-failure unit TestNew"},
	}, {
		name:    "a parent failing on its own beside a known failing subtest still blocks",
		cand:    reportOf(cellOf("unit", report.Fail, 1, "TestA=fail", "TestA/b=fail")),
		base:    reportOf(cellOf("unit", report.Fail, 1, "TestA=pass", "TestA/b=fail")),
		reasons: []string{"!regression unit TestA", "known-failure unit TestA/b"},
	}, {
		name:    "an exit code no case explains is the cell's regression",
		cand:    reportOf(cellOf("unit", report.Fail, 2, "TestA=pass")),
		base:    reportOf(cellOf("unit", report.Pass, 0, "TestA=pass")),
		reasons: []string{"!regression unit"},
	}, {
		name:    "strict: one reason per failing test",
		cand:    reportOf(cellOf("unit", report.Fail, 1, "TestA=fail", "TestA/b=fail", "TestC=pass")),
		reasons: []string{"!failure unit TestA/b", "no-baseline"},
	}, {
		name: "a baseline without the test tool is no baseline for that cell: passing is not fixed",
		cand: reportOf(cellOf("unit", report.Pass, 0, "TestA=pass", "TestB=pass")),
		base: reportOf(cellOf("unit", report.Fail, 127)),
		pass: true, reasons: []string{"baseline-unusable unit"},
	}, {
		name:    "a baseline that wrote no report: the candidate's failure is not excused as known",
		cand:    reportOf(cellOf("unit", report.Fail, 1, "TestA=pass", "TestB=fail")),
		base:    reportOf(cellOf("unit", report.Fail, 1)),
		reasons: []string{"!failure unit TestB", "baseline-unusable unit"},
	}, {
		name:    "a baseline failing without a report where the candidate writes none either stays a known failure",
		cand:    reportOf(cellOf("unit", report.Fail, 1), cellOf("other", report.Pass, 0, "TestX=pass")),
		base:    reportOf(cellOf("unit", report.Fail, 1), cellOf("other", report.Pass, 0, "TestX=pass")),
		reasons: []string{"known-failure unit"},
		pass:    true,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(config.Gate{}, tt.cand, tt.base)
			if got := short(d.Reasons); d.Pass != tt.pass || !reflect.DeepEqual(got, tt.reasons) {
				t.Errorf("pass=%v reasons %q\nwant pass=%v %q", d.Pass, got, tt.pass, tt.reasons)
			}
			for _, r := range d.Reasons {
				if r.Kind == BaselineUnusable && !strings.Contains(r.Message, "could not run this suite") && tt.base != nil && tt.base.Cells[0].Status == report.Fail {
					t.Errorf("baseline-unusable says %q, want it to say the baseline could not run this suite", r.Message)
				}
			}
		})
	}
}
