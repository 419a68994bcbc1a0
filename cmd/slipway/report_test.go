package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/gate"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// corpus is real tool output: pipeline/gate/testdata/corpus/regen.sh.
const corpus = "../../pipeline/gate/testdata/corpus/"

var corpusDirs = []string{"gotestsum", "go-junit-report", "pytest", "jest", "mocha", "vitest", "node", "bats", "playwright",
	"playwright-shape", "node-shape", "jest-shape", "playwright-retries"}

// moduleRun is what the module makes of the corpus: one cell per tool,
// run by the matrix runner, its JUnit read back by flow.Outcome, the exit
// code non-zero when a test failed (as the tools exit).
func moduleRun(t *testing.T, variant string) *report.Report {
	t.Helper()
	var suites []config.Suite
	for _, d := range corpusDirs {
		suites = append(suites, config.Suite{Name: d, Run: config.Command{Shell: "run " + d}, Reports: []string{"/out/junit.xml"}})
	}
	cells, err := matrix.Cells(config.Test{Suites: suites})
	if err != nil {
		t.Fatal(err)
	}
	fn := func(_ context.Context, c matrix.Cell, attempt int) (matrix.Outcome, error) {
		body, err := os.ReadFile(corpus + c.ID + "/" + variant + ".xml")
		if err != nil {
			return matrix.Outcome{}, err
		}
		res := flow.ExecResult{Files: map[string]string{"/out/junit.xml": string(body)}}
		if strings.Contains(string(body), "<failure") || strings.Contains(string(body), "<error") {
			res.ExitCode = 1
		}
		return flow.Outcome(flow.ExecFor(c, attempt), res)
	}
	return &report.Report{Version: report.Version, Cells: matrix.Run(context.Background(), cells, matrix.RunOptions{Parallelism: 2}, fn)}
}

// reasonsOf is a decision's reasons without their messages (the cells'
// reasons are worded by whoever made the cell).
func reasonsOf(rs []gate.Reason) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, strings.Join([]string{string(r.Kind), r.Cell, r.Case, map[bool]string{true: "blocking"}[r.Blocking]}, "|"))
	}
	return out
}

// TestReportThenGateMatchesModule: `slipway report` over the corpus files,
// then `slipway gate`, decides as the module decides on the same files,
// under both flaky policies.
func TestReportThenGateMatchesModule(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const digest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	rev := strings.Repeat("ab", 20)
	paths := map[string]string{}
	for _, v := range []string{"base", "cand"} {
		args := []string{"report", "--image", "ghcr.io/acme/app@" + digest, "--revision", rev, "--run-id", "77"}
		for _, d := range corpusDirs {
			args = append(args, "--cell", d, corpus+d+"/"+v+".xml")
		}
		code, out, errOut := runSlipway(args...)
		if code != 0 {
			t.Fatalf("report %s: exit %d: %s", v, code, errOut)
		}
		paths[v] = filepath.Join(dir, v+".json")
		if err := os.WriteFile(paths[v], []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := report.ReadJSON(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if r.Digest != digest || r.Revision != rev || len(r.Cells) != len(corpusDirs) {
			t.Errorf("report %s: digest %s revision %s, %d cells", v, r.Digest, r.Revision, len(r.Cells))
		}
	}
	modCand, modBase := moduleRun(t, "cand"), moduleRun(t, "base")
	for _, flaky := range []string{config.FlakyWarn, config.FlakyFail} {
		want := gate.Decide(config.Gate{Flaky: flaky}, modCand, modBase)
		if len(want.Reasons) < 50 {
			t.Fatalf("the module gave only %d reasons", len(want.Reasons))
		}
		code, out, errOut := runSlipway("gate", "--candidate", paths["cand"], "--baseline", paths["base"], "--flaky", flaky, "--format", "json")
		if code != exitPolicy {
			t.Fatalf("flaky %s: gate exit %d, want 1: %s", flaky, code, errOut)
		}
		var got gate.Decision
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.Pass != want.Pass || got.Tests != want.Tests || !reflect.DeepEqual(reasonsOf(got.Reasons), reasonsOf(want.Reasons)) {
			t.Errorf("flaky %s: slipway report + gate:\n%q\nthe module:\n%q", flaky, reasonsOf(got.Reasons), reasonsOf(want.Reasons))
		}
		// The three shapes: a regression naming the broken test, not flaky
		// (jest-junit's position is shown, whichever it was in this run).
		for _, name := range []string{"home.spec.js › renders [hostname=webkit]", "test › renders", "undefined ›  renders [testsuite #"} {
			if !slices.ContainsFunc(got.Reasons, func(r gate.Reason) bool {
				return r.Kind == gate.Regression && r.Blocking && strings.Contains(r.Case, name)
			}) {
				t.Errorf("flaky %s: no blocking regression on %q", flaky, name)
			}
		}
	}
	// Real reruns stay flaky: the retries cell alone passes under warn.
	code, out, _ := runSlipway("report", "--cell", "e2e", corpus+"playwright-retries/cand.xml")
	p := filepath.Join(dir, "retries.json")
	os.WriteFile(p, []byte(out), 0o644)
	code2, _, _ := runSlipway("report", "--cell", "e2e", corpus+"playwright-retries/base.xml")
	if code != 0 || code2 != 0 {
		t.Fatal("report failed")
	}
	if code, md, _ := runSlipway("gate", "--candidate", p); code != 0 || !strings.Contains(md, "flaky") {
		t.Errorf("retries: exit %d\n%s", code, md)
	}
}

func TestReportCells(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.xml")
	os.WriteFile(empty, []byte(`<testsuites tests="0"></testsuites>`), 0o644)
	// Several files per cell: their cases in order; the cell fails with one failing case.
	code, out, errOut := runSlipway("report", "--cell", "unit", corpus+"gotestsum/base.xml", corpus+"bats/base.xml",
		"--cell", "e2e", corpus+"playwright-retries/base.xml", "--cell", "crashed", empty, "--shard", "2/3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r, err := report.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, c := range r.Cells {
		got = append(got, c.ID+" "+string(c.Status)+" "+strings.Repeat("x", len(c.Cases)))
	}
	want := []string{"unit fail " + strings.Repeat("x", 7+6), "e2e pass xxx", "crashed fail "}
	if !reflect.DeepEqual(got, want) || r.Shard != "2/3" {
		t.Errorf("cells %q shard %q, want %q", got, r.Shard, want)
	}
	if !strings.Contains(r.Cells[2].Reason, "no test case in "+empty) {
		t.Errorf("reason %q", r.Cells[2].Reason)
	}
}

func TestReportBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notJUnit := filepath.Join(dir, "out.html")
	os.WriteFile(notJUnit, []byte("<html>502</html>"), 0o644)
	ok := corpus + "jest/base.xml"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no cell", []string{"report"}, "no --cell"},
		{"file before cell", []string{"report", ok, "--cell", "a"}, "JUnit files go after --cell NAME"},
		{"cell without files", []string{"report", "--cell", "a", "--cell", "b", ok}, "--cell a: no JUnit files"},
		{"missing file", []string{"report", "--cell", "a", filepath.Join(dir, "nope.xml")}, "nope.xml: no such file"},
		{"not JUnit", []string{"report", "--cell", "a", notJUnit}, "out.html: parsing JUnit: root element <html>"},
		{"duplicate cell", []string{"report", "--cell", "a", ok, "--cell", "a", ok}, `duplicate cell id "a"`},
		{"image by tag", []string{"report", "--cell", "a", ok, "--image", "ghcr.io/acme/app:stable"}, "pin the image by digest"},
		{"short revision", []string{"report", "--cell", "a", ok, "--revision", "abc1234"}, "not a full commit SHA"},
		{"bad shard", []string{"report", "--cell", "a", ok, "--shard", "3/2"}, `shard "3/2"`},
		{"flag as cell name", []string{"report", "--cell", "--image", ok}, "not a cell name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runSlipway(tt.args...)
			if code != exitUsage || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			if !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 && !strings.Contains(errOut, "usage:") {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
		})
	}
}
