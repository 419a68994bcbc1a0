package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

func TestPromoteCommand(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	base := registrytest.PushImage(t, reg.Ref("ci/app:base"), registrytest.ImageSpec{})
	cand := registrytest.PushImage(t, reg.Ref("ci/app:cand"), registrytest.ImageSpec{})
	other := registrytest.PushImage(t, reg.Ref("ci/app:other"), registrytest.ImageSpec{})
	to := reg.Ref("prod/app")
	if code, _, stderr := slipway(t, nil, "promote", base.String(), "--to", to, "--floating", "stable", "--expect", "none"); code != 0 {
		t.Fatalf("promoting the baseline: %s", stderr)
	}

	// In order: each step sees the registry the previous ones left.
	steps := []struct {
		name     string
		args     []string
		wantCode int
		stdout   []string
		stderr   string
	}{
		{"dry run", []string{cand.String(), "--to", to, "--tag", "sha-c", "--floating", "stable", "--expect", base.DigestStr(), "--dry-run"}, 0,
			[]string{"would copy", "immutable tag sha-c: would create", "promotion record: would write", "floating tag stable: would move from " + base.DigestStr()}, ""},
		{"baseline moved", []string{cand.String(), "--to", to, "--floating", "stable", "--expect", other.DigestStr()}, 1,
			[]string{"floating tag stable: refused"}, "baseline moved from " + other.DigestStr() + " to " + base.DigestStr()},
		{"promotes, flags after the source", []string{cand.String(), "--to", to, "--tag", "sha-c", "--tag", "main-c", "--floating", "stable", "--expect", base.DigestStr(), "--decision", "pass", "--run-id", "7"}, 0,
			[]string{"image " + to + "@" + cand.DigestStr() + ": copied", "immutable tag sha-c: created", "immutable tag main-c: created", "promotion record sha256:", "floating tag stable: moved from " + base.DigestStr() + " to " + cand.DigestStr()}, ""},
		{"rerun changes nothing", []string{"--to", to, "--tag", "sha-c", "--tag", "main-c", "--floating", "stable", "--expect", base.DigestStr(), "--decision", "pass", "--run-id", "7", cand.String()}, 0,
			[]string{": unchanged from", "immutable tag sha-c: unchanged", "promotion record: unchanged", "floating tag stable: unchanged"}, ""},
		{"immutable tag taken", []string{other.String(), "--to", to, "--tag", "sha-c"}, 1,
			[]string{"immutable tag sha-c: refused"}, "immutable tag " + to + ":sha-c already points at " + cand.DigestStr()},
		{"no --to", []string{cand.String()}, 2, nil, "--to REPO is required"},
		{"source not pinned", []string{reg.Ref("ci/app:cand"), "--to", to}, 2, nil, "must be pinned by digest"},
		{"--to with a tag", []string{cand.String(), "--to", to + ":x"}, 2, nil, "must be a repository"},
		{"floating without expect", []string{cand.String(), "--to", to, "--floating", "stable"}, 2, nil, "floating tags need the baseline"},
		{"bad format", []string{cand.String(), "--to", to, "--format", "yaml"}, 2, nil, "--format"},
		{"bad decision", []string{cand.String(), "--to", to, "--decision", "fail"}, 2, nil, "record decision"},
		{"reserved tag", []string{cand.String(), "--to", to, "--tag", "slipway-lease"}, 2, nil, "reserved"},
		{"missing source", []string{reg.Ref("ci/app@sha256:" + strings.Repeat("0", 64)), "--to", to}, 1, nil, "not found"},
	}
	for _, st := range steps {
		code, stdout, stderr := slipway(t, nil, append([]string{"promote"}, st.args...)...)
		if code != st.wantCode || !strings.Contains(stderr, st.stderr) {
			t.Fatalf("%s: exit %d, stderr %q; want %d, %q\nstdout:\n%s", st.name, code, stderr, st.wantCode, st.stderr, stdout)
		}
		for _, want := range st.stdout {
			if !strings.Contains(stdout, want) {
				t.Fatalf("%s: stdout lacks %q:\n%s", st.name, want, stdout)
			}
		}
	}

	code, stdout, stderr := slipway(t, nil, "promote", other.String(), "--to", to, "--floating", "stable", "--expect", cand.DigestStr(), "--format", "json")
	if code != 0 {
		t.Fatalf("json: %d %s", code, stderr)
	}
	var res registry.PromoteResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("json output: %v\n%s", err, stdout)
	}
	if len(res.Tags) != 1 || res.Tags[0].Action != registry.Moved || res.Tags[0].From != cand.DigestStr() || res.RecordAct != registry.Created {
		t.Fatalf("json result: %+v", res)
	}
}

// TestPromotePasswordNeverPrinted runs failing promotions with a known
// password in the environment and looks for it in everything printed.
func TestPromotePasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	const user, password = "ci-bot", "correct-horse-battery-staple-7"
	reg := registrytest.New(t)
	cand := registrytest.PushImage(t, reg.Ref("ci/app:cand"), registrytest.ImageSpec{})
	for _, tt := range []struct {
		name, pass string
		rules      []*registrytest.Rule
		wantAuth   bool
	}{
		{"wrong password", "not-" + password, nil, false},
		{"registry fails the tag write", password, []*registrytest.Rule{{Method: http.MethodPut, Path: `/manifests/v1$`, Fault: registrytest.Status, Status: 500}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := registrytest.NewFaultProxy(t, reg.Host(), 1, tt.rules...)
			p.RequireBasicAuth(user, password)
			environ := map[string]string{registry.EnvUsername: user, registry.EnvPassword: tt.pass}
			src := p.Host() + "/ci/app@" + cand.DigestStr()
			for _, format := range []string{"text", "json"} {
				code, stdout, stderr := slipway(t, environ, "promote", src, "--to", p.Host()+"/prod/app", "--tag", "v1", "--format", format)
				if code != 3 {
					t.Fatalf("exit %d, want 3 (stderr %q)", code, stderr)
				}
				for _, s := range []string{tt.pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + tt.pass))} {
					if strings.Contains(stdout+stderr, s) {
						t.Fatalf("the password is printed:\nstdout: %s\nstderr: %s", stdout, stderr)
					}
				}
			}
			if got := p.Stats().AuthOK > 0; got != tt.wantAuth {
				t.Fatalf("authenticated: %v, want %v", got, tt.wantAuth)
			}
		})
	}
}

func FuzzPromoteArgs(f *testing.F) {
	for _, s := range []string{
		"reg.io/ci/app@sha256:" + strings.Repeat("a", 64) + " --to reg.io/prod/app --tag v1 --floating stable --expect none",
		"--to x --dry-run --format json reg.io/a@sha256:" + strings.Repeat("0", 64),
		"--tag", "-h", "a b c", "--format=yaml x", "x@sha256:zz --to y",
		"r/a@sha256:" + strings.Repeat("a", 64) + " r/b@sha256:" + strings.Repeat("b", 64) + " --to r/a --expect none --to r/b --expect sha256:" + strings.Repeat("c", 64) + " --floating stable",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		a, err := parsePromoteArgs(e, strings.Fields(s))
		if err != nil {
			var ee *exitError
			if !errors.Is(err, flag.ErrHelp) && (!errors.As(err, &ee) || ee.code != exitUsage) {
				t.Fatalf("parsePromoteArgs(%q): %v is not a usage error", s, err)
			}
			return
		}
		for _, req := range a.reqs {
			if req.Source.DigestStr() == "" || req.To.RepositoryStr() == "" {
				t.Fatalf("parsePromoteArgs(%q) accepted %+v", s, req)
			}
		}
		if len(a.reqs) == 0 {
			t.Fatalf("parsePromoteArgs(%q) accepted no image", s)
		}
	})
}

// TestPromoteSeveralImages: the images of one run (a sharded workflow's
// gate job) are promoted together: their floating tags move for all or
// none, each from its own baseline.
func TestPromoteSeveralImages(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	toL, toR := reg.Ref("prod/localnode"), reg.Ref("prod/rpcnode")
	baseL := registrytest.PushImage(t, reg.Ref("ci/localnode:base"), registrytest.ImageSpec{})
	baseR := registrytest.PushImage(t, reg.Ref("ci/rpcnode:base"), registrytest.ImageSpec{})
	candL := registrytest.PushImage(t, reg.Ref("ci/localnode:cand"), registrytest.ImageSpec{})
	candR := registrytest.PushImage(t, reg.Ref("ci/rpcnode:cand"), registrytest.ImageSpec{})
	if code, _, stderr := slipway(t, nil, "promote", baseL.String(), baseR.String(), "--to", toL, "--to", toR, "--floating", "stable", "--expect", "none", "--expect", "none"); code != 0 {
		t.Fatalf("promoting the baselines: %s", stderr)
	}
	stable := func() (string, string) {
		l, _ := registrytest.Head(t, toL+":stable")
		r, _ := registrytest.Head(t, toR+":stable")
		return l.DigestStr(), r.DigestStr()
	}
	if l, r := stable(); l != baseL.DigestStr() || r != baseR.DigestStr() {
		t.Fatalf("stable at %s and %s after the first promotion", l, r)
	}
	steps := []struct {
		name         string
		args         []string
		wantCode     int
		stdout       string
		stderr       string
		wantL, wantR string
	}{
		{"rpcnode's baseline moved: neither moves", []string{candL.String(), candR.String(), "--to", toL, "--to", toR, "--floating", "stable", "--expect", baseL.DigestStr(), "--expect", candR.DigestStr()}, 1,
			"", "image 2 of 2", baseL.DigestStr(), baseR.DigestStr()},
		{"one --to for two images", []string{candL.String(), candR.String(), "--to", toL}, 2, "", "one per SRC: 2 SRC, 1 --to", baseL.DigestStr(), baseR.DigestStr()},
		{"three --expect for two images", []string{candL.String(), candR.String(), "--to", toL, "--to", toR, "--expect", "none", "--expect", "none", "--expect", "none"}, 2, "", "one per SRC, in order: 2 SRC, 3 --expect", baseL.DigestStr(), baseR.DigestStr()},
		{"one repository twice", []string{candL.String(), candR.String(), "--to", toL, "--to", toL}, 2, "", "given twice", baseL.DigestStr(), baseR.DigestStr()},
		{"both move", []string{candL.String(), candR.String(), "--to", toL, "--to", toR, "--tag", "sha-c", "--floating", "stable", "--expect", baseL.DigestStr(), "--expect", baseR.DigestStr(), "--decision", "pass"}, 0,
			"floating tag stable: moved from " + baseR.DigestStr() + " to " + candR.DigestStr(), "", candL.DigestStr(), candR.DigestStr()},
	}
	for _, st := range steps {
		code, stdout, stderr := slipway(t, nil, append([]string{"promote"}, st.args...)...)
		if code != st.wantCode || !strings.Contains(stderr, st.stderr) || !strings.Contains(stdout, st.stdout) {
			t.Fatalf("%s: exit %d, stderr %q; want %d, %q\nstdout:\n%s", st.name, code, stderr, st.wantCode, st.stderr, stdout)
		}
		if l, r := stable(); l != st.wantL || r != st.wantR {
			t.Errorf("%s: stable at %s and %s, want %s and %s", st.name, l, r, st.wantL, st.wantR)
		}
	}
}
