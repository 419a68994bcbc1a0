package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gate"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

// trivyFixtures holds real Trivy reports (alpine 3.9 and 3.10).
const trivyFixtures = "../../pipeline/scan/testdata/"

func passingReport() *report.Report {
	return &report.Report{Version: report.Version, Digest: "sha256:aa", Cells: []report.CellResult{{ID: "unit", Status: report.Pass, Attempts: 1,
		Cases: []report.Case{{Suite: "pkg", Name: "TestA", Status: report.CasePass}}}}}
}

// TestGateScan: `slipway gate --scan-candidate --scan-baseline` reaches the
// decision gate.MergeScans reaches, for the alpine pair both ways.
func TestGateScan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rep := writeReport(t, dir, "cand.json", passingReport())
	a39, a310 := trivyFixtures+"alpine-39.json", trivyFixtures+"alpine-310.json"
	read := func(p string) *scan.Report {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := scan.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tt := range []struct {
		name       string
		cand, base string
		pass       bool
		md         []string
	}{
		{"3.10 over 3.9 passes, musl fixed", a310, a39, true, []string{"#### ✅ Fixed", "| musl | 1.1.20-r4 | 1.1.20-r5 | CRITICAL |", "| musl-utils | 1.1.20-r4 | 1.1.20-r5 | CRITICAL |"}},
		{"3.9 over 3.10 blocks on musl", a39, a310, false, []string{"#### ❌ New (not on the baseline)", "| musl | 1.1.20-r4 | 1.1.20-r5 | CRITICAL |", "| musl-utils |"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"gate", "--candidate", rep, "--baseline", rep, "--scan-candidate", tt.cand, "--scan-baseline", tt.base}
			p, err := scan.PolicyFrom(config.Default().Scan, nil, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			want := gate.MergeScans(gate.Decide(config.Default().Gate, passingReport(), passingReport()), gate.Scans{Policy: p, Candidate: read(tt.cand), Baseline: read(tt.base)})
			if want.Pass != tt.pass {
				t.Fatalf("MergeScans pass %v", want.Pass)
			}
			code, stdout, stderr := runSlipway(append(args, "--format", "json")...)
			if (code == 0) != tt.pass || (!tt.pass && code != 1) {
				t.Errorf("exit %d; stderr %s", code, stderr)
			}
			var got gate.Decision
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			// The JSON holds no parsed purls; compare through JSON both.
			wantJSON, _ := json.Marshal(want)
			gotJSON, _ := json.Marshal(got)
			if string(wantJSON) != string(gotJSON) {
				t.Errorf("the CLI decided differently:\n got %s\nwant %s", gotJSON, wantJSON)
			}
			if !tt.pass && !strings.Contains(stderr, "blocked: 2 blocking reasons, first: vuln-new CVE-2019-14697 musl: ") {
				t.Errorf("stderr %q", stderr)
			}
			_, md, _ := runSlipway(args...)
			for _, s := range tt.md {
				if !strings.Contains(md, s) {
					t.Errorf("Markdown lacks %q:\n%s", s, md)
				}
			}
		})
	}
}

// TestGateScanConfig: the config's scan section and the ignore file next
// to it apply; an expired entry is reported and no longer ignores.
func TestGateScanConfig(t *testing.T) {
	t.Parallel()
	write := func(dir, name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rep := writeReport(t, t.TempDir(), "cand.json", passingReport())
	decide := func(t *testing.T, args ...string) (int, gate.Decision) {
		t.Helper()
		code, stdout, stderr := runSlipway(append([]string{"gate", "--format", "json", "--candidate", rep, "--baseline", rep}, args...)...)
		var d gate.Decision
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		return code, d
	}
	a39, a310 := trivyFixtures+"alpine-39.json", trivyFixtures+"alpine-310.json"

	// The default ignore file next to the config: one live entry, one
	// expired.
	dir := t.TempDir()
	cfg := write(dir, "slipway.yaml", "scan: {mode: strict, severity: [CRITICAL, HIGH, MEDIUM]}\n")
	write(dir, ".trivyignore.yaml", "vulnerabilities:\n  - id: CVE-2019-14697\n    statement: patched\n    expired_at: 2099-01-01\n  - id: CVE-2019-1551\n    expired_at: 2019-12-31\n")
	code, d := decide(t, "--config", cfg, "--scan-candidate", a39, "--scan-baseline", a310)
	if code != 1 || d.Scan == nil || d.Scan.Mode != "strict" || d.Scan.Threshold != scan.Medium || len(d.Scan.Ignored) != 2 || len(d.Scan.Expired) != 1 {
		t.Fatalf("exit %d, scan %+v", code, d.Scan)
	}
	if got := findingsOf(d.Blocking()); !reflect.DeepEqual(got, []string{
		"CVE-2019-1549 libcrypto1.1", "CVE-2019-1549 libssl1.1", "CVE-2019-1551 libcrypto1.1", "CVE-2019-1551 libssl1.1",
	}) {
		t.Errorf("blocking %q", got)
	}

	// An explicit ignoreFile, in the .trivyignore form; no baseline scan:
	// no-new reports without blocking.
	dir = t.TempDir()
	cfg = write(dir, "slipway.yaml", "scan: {ignoreFile: sec/ignores}\n")
	if err := os.Mkdir(filepath.Join(dir, "sec"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(dir, "sec/ignores", "CVE-2019-14697 exp:2099-01-01\n")
	code, d = decide(t, "--config", cfg, "--scan-candidate", a39)
	if code != 0 || !d.Scan.NoBaseline || len(d.Scan.Ignored) != 2 || d.Scan.Ignored[0].Rule.File != "sec/ignores" {
		t.Errorf("exit %d, scan %+v", code, d.Scan)
	}
}

// findingsOf names findings "ID package" from their reasons.
func findingsOf(rs []gate.Reason) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Finding)
	}
	return out
}

func TestGateScanBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rep := writeReport(t, dir, "cand.json", passingReport())
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a39 := trivyFixtures + "alpine-39.json"
	notTrivy := write("junit.json", `{"version": 1, "cells": []}`)
	off := write("off/slipway.yaml", "scan: {mode: off}\n")
	missing := write("missing/slipway.yaml", "scan: {ignoreFile: .trivyignore}\n")
	badIgnore := write("bad/slipway.yaml", "")
	write("bad/.trivyignore", "CVE-1 exp:someday\n")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a Trivy report", []string{"--scan-candidate", notTrivy}, "candidate scan " + notTrivy + ": reading Trivy report: no SchemaVersion"},
		{"unreadable", []string{"--scan-candidate", filepath.Join(dir, "nope.json")}, "reading the candidate scan: open "},
		{"bad baseline", []string{"--scan-candidate", a39, "--scan-baseline", notTrivy}, "baseline scan " + notTrivy},
		{"baseline alone", []string{"--scan-baseline", a39}, "--scan-baseline needs --scan-candidate"},
		{"scan off", []string{"--config", off, "--scan-candidate", a39}, "--scan-candidate: scan.mode is off in " + off},
		{"missing ignore file", []string{"--config", missing, "--scan-candidate", a39}, "reading scan.ignoreFile: open "},
		{"bad ignore file", []string{"--config", badIgnore, "--scan-candidate", a39}, `.trivyignore:1: "someday" is not a date (exp:YYYY-MM-DD)`},
		{"a stray file after a scan flag", []string{"--scan-candidate", a39, rep}, "report files go after --candidate or --baseline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runSlipway(append([]string{"gate", "--candidate", rep}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tt.want)
			}
		})
	}
}
