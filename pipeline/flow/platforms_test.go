package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// platformEngine is a Builder that builds every platform of the config
// and reports them as the module's engine does.
type platformEngine struct {
	*testEngine
	platforms []string
}

func (e *platformEngine) Build(ctx context.Context, r BuildRequest) (*report.Build, error) {
	if !r.Image {
		return &report.Build{Images: r.Images()}, nil
	}
	return &report.Build{Images: len(e.platforms), Platforms: report.PlatformsBuilt(e.platforms, make([]report.Duration, len(e.platforms)))}, nil
}

// TestPromoteSmokesOtherPlatforms: a suite with platforms: all runs on
// every platform built, candidate and baseline alike, and the gate judges
// those cells like any other; a platform the engine cannot run is
// reported, not judged, and never blocks on its own.
func TestPromoteSmokesOtherPlatforms(t *testing.T) {
	t.Parallel()
	platforms := []string{"linux/amd64", "linux/arm64", "linux/s390x"}
	noEmulation := func(p string) error {
		return &EmulationError{Platform: p, Err: errors.New("exec /bin/sh: exec format error")}
	}
	tests := []struct {
		name string
		// fails says which role fails on which cell; cannot, which
		// role's engine cannot run which platform; foreign, which role's
		// image of which platform has x86_64 binaries (a base image with
		// no variant for it).
		fails, cannot, foreign map[string]string
		pass                   bool
		want                   []string // in the promotion's Markdown
		notRun                 []string // the candidate's cells not run
	}{
		{
			name:   "arm64 smoke-tested, s390x cannot be emulated",
			cannot: map[string]string{Candidate: "linux/s390x", Baseline: "linux/s390x"},
			pass:   true,
			want: []string{
				"| `linux/arm64` | ✅ smoke-tested: 1 of the cells ran on it |",
				"| `linux/s390x` | 🔨 built only: no cell ran on it (1 cell not run: the engine cannot run linux/s390x images (no emulation for it): exec /bin/sh: exec format error) |",
			},
			notRun: []string{"unit@linux/s390x"},
		},
		{
			name:    "an arm64 image with x86_64 binaries is built only, and says why",
			cannot:  map[string]string{Candidate: "linux/s390x", Baseline: "linux/s390x"},
			foreign: map[string]string{Candidate: "linux/arm64", Baseline: "linux/arm64"},
			pass:    true,
			want: []string{
				"| `linux/arm64` | 🔨 built only: no cell ran on it (1 cell not run: the engine cannot run it as linux/arm64: its binaries are x86_64 (a base image with no linux/arm64 variant, which the build took as it was)) |",
			},
			notRun: []string{"unit@linux/arm64", "unit@linux/s390x"},
		},
		{
			name:  "a regression on arm64 only blocks",
			fails: map[string]string{Candidate: "unit@linux/arm64"},
			want:  []string{"unit@linux/arm64"},
		},
		{
			name:   "what the candidate could not run is not compared with the baseline's",
			cannot: map[string]string{Candidate: "linux/arm64"},
			fails:  map[string]string{Baseline: "unit@linux/arm64"},
			pass:   true,
			want:   []string{"| `linux/arm64` | 🔨 built only: no cell ran on it (1 cell not run:"},
			notRun: []string{"unit@linux/arm64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t)
			repo := reg.Ref("acme/app")
			registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{})
			cfg := testConfig(repo)
			cfg.Build.Platforms = platforms
			cfg.Test.Suites[0].Platforms = config.PlatformsAll
			cfg.Test.FailFast = true // a platform not run is no failure to act on
			cfg.Test.Suites = append(cfg.Test.Suites, config.Suite{Name: "lint", Run: config.Command{Args: []string{"lint"}}, Reports: []string{"/out/junit.xml"}})
			plan, err := runplan.New(cfg, gitctx.Context{Revision: rev, RunID: "42"}, time.Date(2026, 2, 4, 0, 0, 0, 0, time.UTC), "")
			if err != nil {
				t.Fatal(err)
			}
			var eng *platformEngine
			results := func(role, cell string, attempt int) (ExecResult, error) {
				if p, ok := strings.CutPrefix(cell, "unit@"); ok && tt.cannot[role] == p {
					return ExecResult{}, noEmulation(p)
				}
				if p, ok := strings.CutPrefix(cell, "unit@"); ok && tt.foreign[role] == p {
					return ExecResult{}, CheckMachine(p, "x86_64\n")
				}
				ok := tt.fails[role] != cell
				code := 0
				if !ok {
					code = 1
				}
				return ExecResult{ExitCode: code, Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": ok})}}, nil
			}
			eng = &platformEngine{testEngine: &testEngine{t: t, results: results}, platforms: platforms}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Now: time.Now()})
			if tt.pass != (err == nil) {
				t.Fatalf("Promote = %v, want pass %v\n%s", err, tt.pass, out.Markdown())
			}
			if !tt.pass && (!errors.Is(err, ErrGateBlocked) || len(eng.published) != 0) {
				t.Errorf("Promote = %v, published %v: want the gate blocked, nothing published", err, eng.published)
			}
			md := out.Markdown()
			for _, w := range tt.want {
				if !strings.Contains(md, w) {
					t.Errorf("the summary lacks %q:\n%s", w, md)
				}
			}
			var ids []string
			for _, n := range out.Candidate.NotRun {
				ids = append(ids, n.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.notRun) {
				t.Errorf("candidate not run %v, want %v", ids, tt.notRun)
			}
			for _, r := range []*report.Report{out.Candidate, out.Baseline} {
				for _, c := range r.Cells {
					if slicesHas(tt.notRun, c.ID) {
						t.Errorf("%s was not run by one image, yet is judged in the other's report", c.ID)
					}
				}
			}
			for _, cl := range eng.calls {
				cell := ""
				for _, kv := range cl.x.Env {
					cell = strings.TrimPrefix(kv, "SLIPWAY_CELL=")
				}
				_, p, _ := strings.Cut(cell, "@")
				if cl.t.Platform != p {
					t.Errorf("cell %s ran on platform %q", cell, cl.t.Platform)
				}
			}
		})
	}
}

func TestCheckMachine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		platform, uname string
		foreign         bool
	}{
		{"linux/arm64", "x86_64\n", true},
		{"linux/arm64", "aarch64\n", false},
		{"linux/amd64", "x86_64", false},
		{"linux/arm/v7", "armv7l\n", false},
		{"linux/386", "i686\n", false},
		{"linux/s390x", "aarch64\n", true},
		{"linux/arm64", "", false},                       // no uname: cannot tell
		{"linux/arm64", "sh: uname: not found\n", false}, // nor from an error
		{"linux/mips64le", "x86_64\n", false},            // a platform not listed
		{"linux/arm64", "some-new-machine\n", false},     // a machine not listed
	} {
		err := CheckMachine(tt.platform, tt.uname)
		var me *MachineError
		if errors.As(err, &me) != tt.foreign || (tt.foreign && me.Machine != strings.TrimSpace(tt.uname)) {
			t.Errorf("CheckMachine(%q, %q) = %v, want foreign %v", tt.platform, tt.uname, err, tt.foreign)
		}
	}
}

func slicesHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
