package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCLI runs the CLI in dir with the given environment and returns the
// exit code, stdout and stderr.
func runCLI(t *testing.T, dir string, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return environ[k] }}
	code := run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

// checkRun asserts a CLI run: its exit code, lines of its output (fields
// joined by one space) and a one-line error containing wantErr.
func checkRun(t *testing.T, code int, out, errOut string, wantCode int, want []string, wantErr string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("exit %d, want %d; stderr: %s", code, wantCode, errOut)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		lines[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(errOut, wantErr) {
		t.Errorf("stderr %q lacks %q", errOut, wantErr)
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Errorf("error is not one line: %q", errOut)
	}
}

func pinClock(t *testing.T) {
	t.Helper()
	old := now
	now = func() time.Time { return time.Date(2026, 2, 4, 10, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { now = old })
}

// githubPR is a GitHub Actions pull_request environment: PR 123, head SHA
// abc12345…, branch feature/Add_New-Feature#12, GITHUB_SHA the merge commit.
func githubPR(t *testing.T) map[string]string {
	event, err := filepath.Abs("testdata/github_pull_request.json")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event,
		"GITHUB_SHA": "9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6",
		"GITHUB_REF": "refs/pull/123/merge", "GITHUB_REF_NAME": "123/merge", "GITHUB_REF_TYPE": "branch",
		"GITHUB_HEAD_REF": "feature/Add_New-Feature#12", "GITHUB_BASE_REF": "main",
		"GITHUB_RUN_ID": "9876543210", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/app",
	}
}

func TestTags(t *testing.T) {
	pinClock(t)
	const rev = "abc12345def67890abcdef0123456789abcdef01"
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     []string // lines (fields joined by one space) that must appear
		wantErr  string
	}{
		{
			name: "github pull request uses the head commit",
			env:  githubPR(t),
			want: []string{
				"pr-123-abc1234 pr immutable",
				"feature-add-new-feature-12-abc1234 branch immutable",
				"sha-abc1234 sha immutable",
				"stable floating floating",
				"org.opencontainers.image.revision=" + rev,
				"dev.slipway.run-id=9876543210",
				"org.opencontainers.image.source=https://github.com/acme/app",
			},
		},
		{
			name: "release from a git tag",
			args: []string{"--revision", rev, "--git-tag", "v1.2.3"},
			want: []string{"1.2.3 semver immutable", "1.2 semver floating", "1 semver floating", "sha-abc1234 sha immutable"},
		},
		{
			name:     "branch that sanitizes to nothing",
			args:     []string{"--revision", rev, "--branch", "///"},
			wantCode: exitUsage,
			wantErr:  `branch "///"`,
		},
		{
			name:     "revision that is not a SHA",
			args:     []string{"--revision", "main"},
			wantCode: exitUsage,
			wantErr:  `revision: "main" is not a full commit SHA`,
		},
		{
			name:     "unknown format",
			args:     []string{"--revision", rev, "--format", "yaml"},
			wantCode: exitUsage,
			wantErr:  "--format",
		},
		{
			name:     "explicit config that does not exist",
			args:     []string{"--revision", rev, "--config", "nope.yaml"},
			wantCode: exitUsage,
			wantErr:  "nope.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, t.TempDir(), tt.env, append([]string{"tags"}, tt.args...)...)
			checkRun(t, code, out, errOut, tt.wantCode, tt.want, tt.wantErr)
		})
	}
}

func TestTagsJSON(t *testing.T) {
	pinClock(t)
	code, out, errOut := runCLI(t, t.TempDir(), githubPR(t), "tags", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Revision, RevisionSource string
		Tags                     []struct {
			Name, Class string
			Immutable   bool
		}
		Labels map[string]string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Revision != "abc12345def67890abcdef0123456789abcdef01" || !strings.Contains(got.RevisionSource, "head") {
		t.Errorf("revision %q (%s), want the PR head", got.Revision, got.RevisionSource)
	}
	if len(got.Tags) == 0 || got.Tags[0].Class == "" || got.Labels["org.opencontainers.image.created"] != "2026-02-04T10:00:00Z" {
		t.Errorf("unexpected %+v", got)
	}
}

func TestPlan(t *testing.T) {
	pinClock(t)
	const rev = "--revision=abc12345def67890abcdef0123456789abcdef01"
	matrixCfg := `version: 1
image: ghcr.io/acme/app
test:
  matrix: {shard: [1, 2, 3, 4], browser: [chromium, firefox]}
  exclude: [{shard: 4, browser: firefox}]
  suites:
    - name: unit
      run: [go, test, ./...]
    - name: e2e-${shard}-${browser}
      run: npx playwright test --project=${browser} --shard=${shard}/4
`
	tests := []struct {
		name     string
		config   string
		args     []string
		wantCode int
		want     []string
		wantErr  string
	}{
		{
			name:   "matrix cells, tags and baseline",
			config: matrixCfg,
			args:   []string{rev},
			want: []string{
				"cells: 8",
				"unit go test ./...",
				"e2e-2-firefox npx playwright test --project=firefox --shard=2/4",
				"baseline: ghcr.io/acme/app:stable (gate no-regression; no digest there yet means strict)",
				"sha-abc1234 sha immutable",
				"builds: each once per run, every platform and stage before any cell runs",
				"app: Dockerfile in .",
				"linux/amd64: tested: the cells run on it",
			},
		},
		{
			name: "builds: platforms, the smoke subset and runner stages",
			config: `image: ghcr.io/acme/app
build: {platforms: [linux/amd64, linux/arm64, linux/s390x]}
test:
  suites:
    - {name: unit, run: [go, test], platforms: all}
    - name: waf
      run: [/tests/waf.sh]
      runner: {build: {target: tests}}
      services: [{name: app, image: app, ports: [8080]}]
`,
			args: []string{rev},
			want: []string{
				"linux/amd64: tested: the cells run on it",
				"linux/arm64: smoke-tested: 1 cells run on it too (platforms: all), where the engine runs linux/arm64 natively or emulated; else they are reported not run",
				"linux/s390x: smoke-tested: 1 cells run on it too (platforms: all), where the engine runs linux/s390x natively or emulated; else they are reported not run",
				"runner stage tests: from app's Dockerfile (Dockerfile in .)",
				"unit@linux/arm64 go test",
			},
		},
		{
			name: "builds: a buildpacks builder",
			config: `image: ghcr.io/acme/app
build:
  buildpacks: {builder: "docker.io/paketobuildpacks/builder-jammy-base@sha256:` + strings.Repeat("a", 64) + `", runImage: "docker.io/paketobuildpacks/run-jammy-base@sha256:` + strings.Repeat("b", 64) + `"}
test:
  suites: [{name: unit, run: [go, test]}]
`,
			args: []string{rev},
			want: []string{
				"app: buildpacks, builder docker.io/paketobuildpacks/builder-jammy-base@sha256:" + strings.Repeat("a", 64) + " (its lifecycle's creator)",
				"linux/amd64: tested: the cells run on it",
			},
		},
		{
			name: "runners and services per cell",
			config: `image: ghcr.io/acme/web
test:
  matrix: {browser: [chromium, firefox]}
  suites:
    - name: e2e-${browser}
      run: npx playwright test --project=${browser}
      runner: {ref: "mcr.microsoft.com/playwright@sha256:` + strings.Repeat("c", 64) + `"}
      services:
        - {name: app, image: app, ports: [8080], env: {ENVIRONMENT: test, BROWSER: "${browser}"}, health: {http: /health}}
        - {name: db, ref: "postgres@sha256:` + strings.Repeat("d", 64) + `", health: {exec: [pg_isready, -h, db]}}
    - name: waf
      run: [/tests/waf.sh]
      runner: {build: {target: tests}}
      services: [{name: app, image: app, ports: [8080]}]
`,
			args: []string{rev},
			want: []string{
				"cells: 3",
				"e2e-firefox npx playwright test --project=firefox",
				"runner: mcr.microsoft.com/playwright@sha256:" + strings.Repeat("c", 64),
				"service app: the image under test (candidate, or baseline in baseline cells), ports 8080, healthy when GET /health on 8080 answers 2xx, env BROWSER,ENVIRONMENT",
				"service db: postgres@sha256:" + strings.Repeat("d", 64) + ", healthy when pg_isready -h db exits 0",
				"runner: Dockerfile stage tests (built once per run)",
				"service app: the image under test (candidate, or baseline in baseline cells), ports 8080",
			},
		},
		{
			name:   "two images: images, services and runners per cell",
			config: imagesCfg,
			args:   []string{rev},
			want: []string{
				"images: 2, each built once per run, promoted together (floating tags move for all or none)",
				"localnode: ghcr.io/acme/localnode",
				"baseline ghcr.io/acme/rpcnode:stable (gate no-regression; none there yet: its cells are judged strict)",
				"build rpcnode.Dockerfile in ., platforms linux/amd64",
				"cells: 3",
				"chain-rpc /tests/run.sh rpc",
				"runner: stage chain-tests of rpcnode's Dockerfile (built once per run)",
				"runner stage chain-tests: from rpcnode's Dockerfile (rpcnode.Dockerfile in .)",
				"service localnode: image localnode under test (candidate, or its baseline in baseline cells), ports 8545, healthy when GET /health on 8545 answers 2xx",
				"service rpcnode: image rpcnode under test (candidate, or its baseline in baseline cells), ports 8546",
				"runner: image rpcnode under test (candidate, or its baseline in baseline cells)",
			},
		},
		{
			name:   "one shard",
			config: matrixCfg,
			args:   []string{rev, "--shard", "2/4"},
			want:   []string{"cells: 2 (shard 2/4)"},
		},
		{
			name: "no config file: defaults and the ephemeral registry",
			args: []string{rev},
			want: []string{"repository: localhost:5000/slipway (ephemeral registry in the engine: no image in the config)", "cells: 1", "smoke (smoke check: the image's own entrypoint and command; passes on exit 0, healthy, or still running after 10s)", "no test suite: the smoke check is all a run tests (add test.suites to slipway.yaml)"},
		},
		{
			name:     "unknown key names the path and line",
			config:   "version: 1\ntest:\n  paralelism: 4\n",
			args:     []string{rev},
			wantCode: exitUsage,
			wantErr:  `slipway.yaml:3: test.paralelism: unknown field (did you mean "parallelism"?)`,
		},
		{
			name:     "bad value names the path and line",
			config:   "retention:\n  rules:\n    - {class: pr}\n    - {class: sha}\n    - {class: run, olderThan: 3x}\n",
			args:     []string{rev},
			wantCode: exitUsage,
			wantErr:  `slipway.yaml:5: retention.rules[2].olderThan: "3x" is not a duration`,
		},
		{
			name:     "bad shard",
			config:   matrixCfg,
			args:     []string{rev, "--shard", "5/4"},
			wantCode: exitUsage,
			wantErr:  "5/4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "slipway.yaml"), []byte(tt.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errOut := runCLI(t, dir, nil, append([]string{"plan"}, tt.args...)...)
			checkRun(t, code, out, errOut, tt.wantCode, tt.want, tt.wantErr)
		})
	}
}

func TestHelpOnEveryVerb(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runCLI(t, t.TempDir(), nil, name, "--help")
			if code != exitOK || !strings.Contains(errOut, "usage: slipway "+name) {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
		})
	}
	if code, _, _ := runCLI(t, t.TempDir(), nil, "nope"); code != exitUsage {
		t.Errorf("unknown verb: exit %d, want %d", code, exitUsage)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, t.TempDir(), nil, "version")
	if code != 0 || !strings.HasPrefix(out, "slipway ") {
		t.Errorf("exit %d, %q", code, out)
	}
}

const imagesCfg = `images:
  - {name: localnode, image: ghcr.io/acme/localnode}
  - {name: rpcnode, image: ghcr.io/acme/rpcnode, build: {dockerfile: rpcnode.Dockerfile}}
test:
  matrix: {job: [sync, rpc]}
  suites:
    - name: chain-${job}
      run: [/tests/run.sh, "${job}"]
      runner: {build: {target: chain-tests, image: rpcnode}}
      services:
        - {name: localnode, image: localnode, ports: [8545], health: {http: /health}}
        - {name: rpcnode, image: rpcnode, ports: [8546]}
    - name: rpc-selftest
      image: rpcnode
      run: [rpcnode, selftest]
`
