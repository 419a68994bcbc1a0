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

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

const pruneYAML = `version: 1
tags: {floating: [stable]}
retention:
  minAge: 48h
  protect: ["^v"]
  rules:
    - {name: pull-requests, class: pr, olderThan: 24h}
    - {name: commits, class: sha, olderThan: 30d}
  untagged: {olderThan: 24h}
`

func pruneRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), e, append([]string{"prune"}, args...))
	return code, out.String(), errb.String()
}

func labels(age time.Duration) map[string]string {
	return map[string]string{"org.opencontainers.image.created": time.Now().Add(-age).UTC().Format(time.RFC3339)}
}

func headOK(t *testing.T, ref string) bool {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Head(r)
	return err == nil
}

func TestPrune(t *testing.T) {
	reg := registrytest.New(t)
	repo := reg.Host() + "/acme/app"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "slipway.yaml")
	os.WriteFile(cfg, []byte(pruneYAML), 0o644)
	old := registrytest.PushImage(t, repo+":pr-1-abcdef0", registrytest.ImageSpec{Labels: labels(10 * 24 * time.Hour)})
	registrytest.PushImage(t, repo+":pr-2-abcdef0", registrytest.ImageSpec{Labels: labels(time.Hour)})
	registrytest.PushImage(t, repo+":v1.0.0", registrytest.ImageSpec{Labels: labels(400 * 24 * time.Hour)})
	registrytest.PushImage(t, repo+":sha-abcdef0", registrytest.ImageSpec{Labels: labels(40 * 24 * time.Hour)})
	deployed := registrytest.PushImage(t, repo+":sha-abcdef1", registrytest.ImageSpec{Labels: labels(40 * 24 * time.Hour)})
	inUse := filepath.Join(dir, "in-use.txt")
	os.WriteFile(inUse, []byte("# prod\n"+deployed.String()+"\n"), 0o644)
	planFile := filepath.Join(dir, "plan.json")

	// Dry run: a table, a plan file, nothing deleted.
	code, out, stderr := pruneRun(t, repo, "--config", cfg, "--in-use", inUse, "--plan-out", planFile)
	if code != 0 || !strings.Contains(out, "2 to delete") || !strings.Contains(out, "expired by rule pull-requests") {
		t.Fatalf("dry run: %d\n%s\n%s", code, out, stderr)
	}
	if !headOK(t, old.String()) {
		t.Fatal("a dry run deleted")
	}

	// JSON dry run is the plan.
	code, out, _ = pruneRun(t, repo, "--config", cfg, "--in-use", inUse, "--format", "json")
	var plan struct {
		Items []struct{ Digest string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &plan) != nil || len(plan.Items) != 2 {
		t.Fatalf("json: %d %s", code, out)
	}

	// Applying the reviewed plan deletes exactly it.
	code, out, stderr = pruneRun(t, repo, "--config", cfg, "--apply", planFile)
	if code != 0 || !strings.Contains(out, "2 done") {
		t.Fatalf("apply: %d\n%s\n%s", code, out, stderr)
	}
	if headOK(t, old.String()) || headOK(t, repo+":sha-abcdef0") || !headOK(t, deployed.String()) || !headOK(t, repo+":v1.0.0") {
		t.Fatal("apply deleted the wrong things")
	}

	// A reviewed plan whose tag moved since is refused: exit 1.
	registrytest.PushImage(t, repo+":pr-3-abcdef0", registrytest.ImageSpec{Labels: labels(10 * 24 * time.Hour)})
	pruneRun(t, repo, "--config", cfg, "--in-use", inUse, "--plan-out", planFile)
	registrytest.PushImage(t, repo+":pr-3-abcdef0", registrytest.ImageSpec{Labels: labels(time.Hour)})
	code, out, stderr = pruneRun(t, repo, "--config", cfg, "--apply", planFile)
	if code != 1 || !strings.Contains(stderr, "refused") {
		t.Fatalf("moved tag: %d\n%s\n%s", code, out, stderr)
	}
	if !headOK(t, repo+":pr-3-abcdef0") {
		t.Fatal("a moved tag was deleted")
	}

	// --confirm plans afresh and applies.
	code, out, stderr = pruneRun(t, repo, "--config", cfg, "--confirm", "--format", "json")
	if code != 0 || !strings.Contains(out, `"result"`) {
		t.Fatalf("confirm: %d\n%s\n%s", code, out, stderr)
	}
}

func TestPruneExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version": 9}`), 0o644)
	badCfg := filepath.Join(dir, "slipway.yaml")
	os.WriteFile(badCfg, []byte("retention: {rules: [{name: x, match: \"(\"}]}\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"no repo", nil, 2},
		{"bad format", []string{"r.test/a", "--format", "xml"}, 2},
		{"confirm and apply", []string{"r.test/a", "--confirm", "--apply", bad}, 2},
		{"bad plan", []string{"r.test/a", "--apply", bad}, 2},
		{"bad config", []string{"r.test/a", "--config", badCfg}, 2},
		{"missing config", []string{"r.test/a", "--config", filepath.Join(dir, "nope.yaml")}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, out, stderr := pruneRun(t, tc.args...); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, out, stderr)
			}
		})
	}
	// Unreachable registry with the default (absent) config: infrastructure.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	t.Chdir(empty)
	if code, _, stderr := pruneRun(t, "127.0.0.1:1/acme/app"); code != 3 {
		t.Fatalf("unreachable: exit %d, %s", code, stderr)
	}
}
