package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// TestRollbackAndHistoryCommands promotes A → B → C with the CLI, then
// rolls stable back twice and reads its history in every format, on the
// registry of the tests. Each step sees what the previous ones left.
func TestRollbackAndHistoryCommands(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	to := reg.Ref("prod/app")
	stable := to + ":stable"
	d := map[string]string{}
	expect := "none"
	for _, n := range []string{"A", "B", "C"} {
		src := registrytest.PushImage(t, reg.Ref("ci/app:"+n), registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: n}})
		if code, _, stderr := slipway(t, nil, "promote", src.String(), "--to", to, "--floating", "stable", "--expect", expect, "--decision", "pass", "--revision", n, "--run-id", "run-"+n); code != 0 {
			t.Fatalf("promoting %s: %s", n, stderr)
		}
		d[n], expect = src.DigestStr(), src.DigestStr()
	}
	short := func(n string) string { return d[n][:len("sha256:")+12] }
	environ := map[string]string{"GITHUB_ACTOR": "alice"}

	steps := []struct {
		name     string
		args     []string
		wantCode int
		stdout   []string
		stderr   string
		stable   string // where stable points after the step
	}{
		{"history, table", []string{"history", to}, 0,
			[]string{stable + " points at " + d["C"], "TIME", "DECISION", short("C") + "  C ", short("A") + "  A ", "run-B", "end: " + d["A"] + " was the first promotion of stable"}, "", "C"},
		{"dry run", []string{"rollback", to, "--dry-run", "--reason", "bad release"}, 0,
			[]string{stable + ": would move from " + d["C"] + " back to " + d["B"], "1 step(s) back", "revision B, run run-B", "rollback record: would write"}, "", "C"},
		{"C back to B", []string{"rollback", to, "--reason", "bad release", "--run-id", "99"}, 0,
			[]string{stable + ": moved from " + d["C"] + " back to " + d["B"], "rollback record sha256:"}, "", "B"},
		{"history, markdown", []string{"history", to, "--format", "md"}, 0,
			[]string{"### History of `" + stable + "`", "| `" + short("B") + "` | B | rollback | 99 | alice | bad release |", "| `" + short("C") + "` | C | pass | run-C | - | - |"}, "", "B"},
		{"verify --require-promotion", []string{"verify", stable, "--require-promotion", "--revision", "B"}, 0, []string{"@" + d["B"]}, "", "B"},
		{"C is rolled back, not a target", []string{"rollback", to, "--to", d["C"]}, 1, nil, "is not in its promotion history", "B"},
		{"too many steps", []string{"rollback", to, "--steps", "5"}, 1, nil, "cannot go 5 promotion(s) back", "B"},
		{"rollback after rollback: B back to A", []string{"rollback", to, "--format", "json"}, 0, []string{`"action": "moved"`, `"to": "` + d["A"] + `"`}, "", "A"},
		{"nowhere left", []string{"rollback", to}, 1, nil, "rolling back " + stable + ": no rollback target: ", "A"},
		{"to where it is", []string{"rollback", to, "--to", d["A"]}, 0, []string{"already points at " + d["A"]}, "", "A"},
		{"both --to and --steps", []string{"rollback", to, "--to", d["A"], "--steps", "2"}, 2, nil, "give one", "A"},
		{"no repository", []string{"rollback"}, 2, nil, "want a REPO argument", "A"},
		{"a tag, not a repository", []string{"rollback", stable + ":x"}, 2, nil, "must be a repository", "A"},
		{"bad digest", []string{"rollback", to, "--to", "sha256:abc"}, 2, nil, "want a sha256 digest", "A"},
		{"zero steps", []string{"rollback", to, "--steps", "0"}, 2, nil, "want 1 or more", "A"},
		{"bad format", []string{"history", to, "--format", "yaml"}, 2, nil, "--format", "A"},
		{"history of no tag", []string{"history", to, "--tag", "prod"}, 0, []string{"points at none", "does not exist"}, "", "A"},
		{"registry down", []string{"rollback", "127.0.0.1:1/app"}, 3, nil, "connection refused", "A"},
	}
	for _, st := range steps {
		code, stdout, stderr := slipway(t, environ, st.args...)
		if code != st.wantCode || !strings.Contains(stderr, st.stderr) {
			t.Fatalf("%s: exit %d, stderr %q; want %d, %q\nstdout:\n%s", st.name, code, stderr, st.wantCode, st.stderr, stdout)
		}
		if code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 && code != 2 {
			t.Fatalf("%s: a failure takes one line, got:\n%s", st.name, stderr)
		}
		for _, want := range st.stdout {
			if !strings.Contains(stdout, want) {
				t.Fatalf("%s: stdout lacks %q:\n%s", st.name, want, stdout)
			}
		}
		if got, _ := registrytest.Head(t, stable); got.DigestStr() != d[st.stable] {
			t.Fatalf("%s: stable points at %s, want %s (%s)", st.name, got.DigestStr(), st.stable, d[st.stable])
		}
	}

	code, stdout, stderr := slipway(t, nil, "history", to, "--format", "json")
	if code != 0 {
		t.Fatalf("history json: %d %s", code, stderr)
	}
	var h registry.History
	if err := json.Unmarshal([]byte(stdout), &h); err != nil {
		t.Fatalf("history json: %v\n%s", err, stdout)
	}
	var got []string
	for _, e := range h.Entries {
		got = append(got, e.Decision+" "+e.Digest+"<-"+e.Replaced)
	}
	want := []string{
		"rollback " + d["A"] + "<-" + d["B"], "rollback " + d["B"] + "<-" + d["C"],
		"pass " + d["C"] + "<-" + d["B"], "pass " + d["B"] + "<-" + d["A"], "pass " + d["A"] + "<-",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h.Entries[0].Actor != "alice" || h.Entries[1].Reason != "bad release" || h.Entries[1].RunID != "99" || h.Current != d["A"] {
		t.Fatalf("history entries: %+v", h.Entries[:2])
	}
}

func FuzzRollbackArgs(f *testing.F) {
	for _, s := range []string{
		"reg.io/prod/app --tag stable --steps 2 --reason bad",
		"reg.io/prod/app --to sha256:" + strings.Repeat("a", 64) + " --dry-run",
		"--to x --steps 3 reg.io/a", "--steps -1 a", "a b", "--tag=slipway-lease a", "-h", "Bad::Repo",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		a, err := parseRollbackArgs(e, strings.Fields(s))
		if err != nil {
			var ee *exitError
			if !errors.Is(err, flag.ErrHelp) && (!errors.As(err, &ee) || ee.code != exitUsage) {
				t.Fatalf("parseRollbackArgs(%q): %v is not a usage error", s, err)
			}
			return
		}
		if a.req.Repo.RepositoryStr() == "" || a.req.Steps < 1 || (a.req.To != "" && a.req.Steps != 1) {
			t.Fatalf("parseRollbackArgs(%q) accepted %+v", s, a.req)
		}
	})
}

// TestRollbackGroupCommand: several REPO arguments roll a group back
// together (each promoted A then B), each with its line, and --to is
// refused for a group.
func TestRollbackGroupCommand(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	repos := []string{reg.Ref("prod/api"), reg.Ref("prod/worker")}
	a := map[string]string{}
	for i, n := range []string{"A", "B"} {
		for _, to := range repos {
			src := registrytest.PushImage(t, reg.Ref("ci/app:"+n+"-"+to[len(to)-3:]), registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: n}})
			expect := "none"
			if i == 1 {
				expect = a[to]
			}
			if code, _, stderr := slipway(t, nil, "promote", src.String(), "--to", to, "--floating", "stable", "--expect", expect, "--decision", "pass", "--revision", n); code != 0 {
				t.Fatalf("promoting %s into %s: %s", n, to, stderr)
			}
			if i == 0 {
				a[to] = src.DigestStr()
			}
		}
	}
	code, stdout, stderr := slipway(t, nil, "rollback", repos[0], repos[1], "--reason", "bad pair", "--run-id", "7")
	if code != 0 {
		t.Fatalf("group rollback: exit %d: %s", code, stderr)
	}
	for _, to := range repos {
		if d, _ := registrytest.Head(t, to+":stable"); d.DigestStr() != a[to] || !strings.Contains(stdout, to+":stable: moved from ") {
			t.Errorf("%s:stable on %s, want A %s; output:\n%s", to, d.DigestStr(), a[to], stdout)
		}
	}
	if code, stdout, _ := slipway(t, nil, "rollback", repos[0], repos[1], "--reason", "again", "--run-id", "7"); code != 0 || strings.Count(stdout, "already: nothing to do") != 2 {
		t.Errorf("re-run of the group rollback: exit %d:\n%s", code, stdout)
	}
	if code, _, stderr := slipway(t, nil, "rollback", repos[0], repos[1], "--to", a[repos[0]]); code != 2 || !strings.Contains(stderr, "--to is one image's digest") {
		t.Errorf("--to for a group: exit %d: %s", code, stderr)
	}
}
