package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gate"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// gateFixtures holds JUnit files in gotestsum, pytest, Surefire and
// jest-junit formats.
const gateFixtures = "../../pipeline/gate/testdata/"

// gateMatrix is a 9-cell matrix: three suites that run once and one over
// shard x browser.
func gateMatrix() config.Test {
	return config.Test{
		Matrix: config.Matrix{{Name: "shard", Values: []string{"1", "2", "3"}}, {Name: "browser", Values: []string{"chromium", "firefox"}}},
		Suites: []config.Suite{
			{Name: "unit", Run: config.Command{Args: []string{"gotestsum", "--junitfile", "/out/junit.xml"}}},
			{Name: "api", Run: config.Command{Shell: "pytest --junitxml=/out/junit.xml"}},
			{Name: "java", Run: config.Command{Shell: "mvn -B test"}},
			{Name: "e2e-${shard}-${browser}", Run: config.Command{Shell: "npx jest --shard=${shard}/3 --browser=${browser}"}},
		},
	}
}

// gateSide says which JUnit fixture each suite's cells produce, and which
// cells play a scripted role.
type gateSide struct {
	files  map[string]string // suite -> fixture
	flaky  string            // cell that fails its first attempt
	broken string            // cell whose engine fails
}

// fn is the CellFunc: the same shape as the module's (exit code + JUnit
// files read back), backed by fixtures.
func (s gateSide) fn(t *testing.T) matrix.CellFunc {
	return func(ctx context.Context, c matrix.Cell, attempt int) (matrix.Outcome, error) {
		if c.ID == s.broken {
			return matrix.Outcome{}, errors.New("engine: connection reset by peer")
		}
		if c.ID == s.flaky && attempt == 1 {
			return matrix.Outcome{ExitCode: 1, Log: "net::ERR_CONNECTION_RESET"}, nil
		}
		name := c.Suite
		if strings.HasPrefix(name, "e2e") {
			name = "e2e"
		}
		f, err := os.Open(gateFixtures + s.files[name])
		if err != nil {
			t.Error(err)
			return matrix.Outcome{}, err
		}
		defer f.Close()
		cases, err := report.ParseJUnit(f)
		if err != nil {
			t.Error(err)
			return matrix.Outcome{}, err
		}
		out := matrix.Outcome{Cases: cases, Log: "ran " + c.ID}
		if out.Failed() {
			out.ExitCode = 1
		}
		return out, nil
	}
}

// gateRun runs a side's cells (all, or shard i of n) as the module would.
func gateRun(t *testing.T, s gateSide, digest string, i, n int) *report.Report {
	t.Helper()
	cells, err := matrix.Cells(gateMatrix())
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{Version: report.Version, Image: "registry.local/shop@" + digest, Digest: digest, Revision: "abc1234", RunID: "77"}
	if n > 0 {
		if cells, err = matrix.Shard(cells, i, n); err != nil {
			t.Fatal(err)
		}
		r.Shard = matrix.ShardSpec{Index: i, Count: n}.String()
	}
	r.Cells = matrix.Run(context.Background(), cells, matrix.RunOptions{Parallelism: 4, Retries: 1}, s.fn(t))
	return r
}

func writeReport(t *testing.T, dir, name string, r *report.Report) string {
	t.Helper()
	p := filepath.Join(dir, name)
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runSlipway(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), &env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}, args)
	return code, out.String(), errOut.String()
}

// TestGateMatchesDecide: `slipway gate` over report JSON files reaches the
// same decision as gate.Decide on the same results, whether the run is one
// report or three shards' reports.
func TestGateMatchesDecide(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name       string
		cand, base gateSide
		cfg        config.Gate
		flags      []string
		pass       bool
	}{
		{
			name: "regressions block",
			cand: gateSide{files: map[string]string{"unit": "gotestsum-cand.xml", "api": "pytest-cand.xml", "java": "TEST-surefire-cand.xml", "e2e": "jest-cand.xml"},
				flaky: "e2e-2-firefox", broken: "e2e-3-chromium"},
			base: gateSide{files: map[string]string{"unit": "gotestsum-base.xml", "api": "pytest-base.xml", "java": "TEST-surefire-base.xml", "e2e": "jest-base.xml"}},
			cfg:  config.Default().Gate,
		},
		{
			name: "known failures, fixes and flakes pass",
			cand: gateSide{files: map[string]string{"unit": "gotestsum-pass.xml", "api": "pytest-cand.xml", "java": "TEST-surefire-cand.xml", "e2e": "jest-base.xml"},
				flaky: "e2e-1-chromium"},
			base: gateSide{files: map[string]string{"unit": "gotestsum-pass.xml", "api": "pytest-base.xml", "java": "TEST-surefire-base.xml", "e2e": "jest-base.xml"}},
			cfg:  config.Default().Gate,
			pass: true,
		},
		{
			name: "the same, with flaky: fail",
			cand: gateSide{files: map[string]string{"unit": "gotestsum-pass.xml", "api": "pytest-cand.xml", "java": "TEST-surefire-cand.xml", "e2e": "jest-base.xml"},
				flaky: "e2e-1-chromium"},
			base:  gateSide{files: map[string]string{"unit": "gotestsum-pass.xml", "api": "pytest-base.xml", "java": "TEST-surefire-base.xml", "e2e": "jest-base.xml"}},
			cfg:   config.Gate{Mode: config.ModeNoRegression, Flaky: config.FlakyFail},
			flags: []string{"--flaky", "fail"},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cand := gateRun(t, sc.cand, "sha256:ca4d", 0, 0)
			base := gateRun(t, sc.base, "sha256:ba5e", 0, 0)
			want := gate.Decide(sc.cfg, cand, base)
			if want.Pass != sc.pass {
				t.Fatalf("gate.Decide pass = %v, want %v:\n%s", want.Pass, sc.pass, want.Markdown())
			}

			// One report per side.
			whole := append([]string{"gate", "--format", "json", "--candidate", writeReport(t, dir, "cand.json", cand),
				"--baseline", writeReport(t, dir, "base.json", base)}, sc.flags...)
			// Three shards per side, files listed after their flag.
			sharded := append([]string{"gate", "--format=json"}, sc.flags...)
			sharded = append(sharded, "--candidate")
			for i := 1; i <= 3; i++ {
				sharded = append(sharded, writeReport(t, dir, fmt.Sprintf("cand-%d.json", i), gateRun(t, sc.cand, "sha256:ca4d", i, 3)))
			}
			sharded = append(sharded, "--baseline")
			for i := 1; i <= 3; i++ {
				sharded = append(sharded, writeReport(t, dir, fmt.Sprintf("base-%d.json", i), gateRun(t, sc.base, "sha256:ba5e", i, 3)))
			}
			for name, args := range map[string][]string{"whole": whole, "3 shards": sharded} {
				code, stdout, stderr := runSlipway(args...)
				wantCode := 0
				if !want.Pass {
					wantCode = 1
				}
				if code != wantCode {
					t.Errorf("%s: exit %d, want %d; stderr %s", name, code, wantCode, stderr)
				}
				var got gate.Decision
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("%s: %v\n%s", name, err, stdout)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: the CLI decided differently:\n got %+v\nwant %+v", name, got, want)
				}
				if !want.Pass && !strings.Contains(stderr, "slipway gate: blocked: ") {
					t.Errorf("%s: stderr %q", name, stderr)
				}
			}

			// Markdown and JUnit carry the same verdict.
			code, md, _ := runSlipway(append(sharded[:1:1], append([]string{"--format", "md"}, sharded[2:]...)...)...)
			if !strings.HasPrefix(md, want.Headline()+"\n") || (code == 0) != want.Pass {
				t.Errorf("md: exit %d:\n%s", code, md)
			}
			_, xml, _ := runSlipway(append(sharded[:1:1], append([]string{"--format", "junit"}, sharded[2:]...)...)...)
			if _, err := report.ParseJUnit(strings.NewReader(xml)); err != nil || !strings.Contains(xml, `<testsuite name="slipway gate"`) {
				t.Errorf("junit: %v\n%s", err, xml)
			}
		})
	}
}

func TestGateBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := &report.Report{Version: report.Version, Digest: "sha256:aa", Cells: []report.CellResult{{ID: "unit", Status: report.Pass, Attempts: 1}}}
	good := writeReport(t, dir, "good.json", ok)
	other := writeReport(t, dir, "other.json", &report.Report{Version: report.Version, Digest: "sha256:bb", Cells: []report.CellResult{{ID: "lint", Status: report.Pass}}})
	shard := func(name, spec string) string {
		return writeReport(t, dir, name, &report.Report{Version: report.Version, Digest: "sha256:aa", Shard: spec, Cells: []report.CellResult{{ID: "unit", Status: report.Pass}}})
	}
	s1, s2, s3 := shard("s1.json", "1/3"), shard("s2.json", "2/3"), shard("s3.json", "3/3")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := write("garbage.json", "<testsuites/>")
	badStatus := write("bad.json", `{"version":1,"cells":[{"id":"unit","status":"green"}]}`)
	badConfig := write("slipway.yaml", "gate:\n  mode: lenient\n  colour: red\n")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no candidate", []string{"--baseline", good}, 2, "no --candidate report"},
		{"unreadable", []string{"--candidate", filepath.Join(dir, "missing.json")}, 2, "reading candidate report: open "},
		{"not json", []string{"--candidate", garbage}, 2, "candidate report " + garbage + ": reading report JSON: invalid character"},
		{"invalid report", []string{"--candidate", good, "--baseline", badStatus}, 2, `baseline report ` + badStatus + `: invalid report: cell "unit": unknown status "green"`},
		{"overlapping shards", []string{"--candidate", s1, s2, s3}, 2, "merging candidate reports: cells in more than one report (overlapping shards?): unit"},
		{"a missing shard", []string{"--candidate", s1, s3}, 2, "merging candidate reports: missing shards: 2/3"},
		{"a shard twice", []string{"--candidate", s1, s2, s3, s2}, 2, "shard 2/3 given twice"},
		{"the same shard twice", []string{"--candidate", good, "--candidate", good}, 2, "overlapping shards?): unit"},
		{"different images", []string{"--candidate", good, other}, 2, "reports of different runs: digest sha256:aa and sha256:bb"},
		{"bad mode", []string{"--candidate", good, "--mode", "lenient"}, 2, `--mode "lenient": want no-regression or strict`},
		{"bad flaky", []string{"--candidate", good, "--flaky", "ignore"}, 2, `--flaky "ignore": want warn or fail`},
		{"bad format", []string{"--candidate", good, "--format", "html"}, 2, `--format "html": want md, json or junit`},
		{"conflicting flags", []string{"--candidate", good, "--mode", "strict", "--allow-dropped"}, 2, "--allow-dropped has no meaning with --mode strict"},
		{"stray file", []string{good, "--candidate", good}, 2, "report files go after --candidate or --baseline"},
		{"unknown flag", []string{"--candidate", good, "--colour"}, 2, "flag provided but not defined: -colour"},
		{"bad config", []string{"--candidate", good, "--config", badConfig}, 2, "slipway.yaml"},
		{"missing config", []string{"--candidate", good, "--config", filepath.Join(dir, "nope.yaml")}, 2, "reading config"},
		{"help", []string{"--help"}, 0, "usage: slipway gate --candidate R.json…"},
		{"pass", []string{"--candidate", good, "--mode", "strict"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runSlipway(append([]string{"gate"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestGateConfig: the gate section of --config applies, and flags win.
func TestGateConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "slipway.yaml")
	if err := os.WriteFile(cfgPath, []byte("gate:\n  mode: strict\n  flaky: fail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	flaky := &report.Report{Version: report.Version, Cells: []report.CellResult{{ID: "unit", Status: report.Flaky, Attempts: 2, Reason: "passed on attempt 2 of 2"}}}
	cand := writeReport(t, dir, "cand.json", flaky)
	base := writeReport(t, dir, "base.json", &report.Report{Version: report.Version, Cells: []report.CellResult{{ID: "unit", Status: report.Pass}}})

	decide := func(args ...string) gate.Decision {
		t.Helper()
		_, stdout, stderr := runSlipway(append([]string{"gate", "--format", "json", "--candidate", cand, "--baseline", base}, args...)...)
		var d gate.Decision
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		return d
	}
	if d := decide("--config", cfgPath); d.Mode != "strict" || d.Flaky != "fail" || d.Pass {
		t.Errorf("from config: %+v", d)
	}
	if d := decide("--config", cfgPath, "--flaky", "warn", "--mode", "no-regression"); d.Mode != "no-regression" || d.Flaky != "warn" || !d.Pass {
		t.Errorf("flags over config: %+v", d)
	}
	if d := decide(); d.Mode != "no-regression" || d.Flaky != "warn" || !d.Pass {
		t.Errorf("defaults: %+v", d)
	}
}
