package flow

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// buildingEngine is a testEngine that is a Builder: its build takes d, or
// fails with err.
type buildingEngine struct {
	*testEngine
	d      time.Duration
	err    error
	builds atomic.Int32
	mu     sync.Mutex
	reqs   []BuildRequest
}

func (e *buildingEngine) Build(ctx context.Context, r BuildRequest) (*report.Build, error) {
	e.builds.Add(1)
	e.mu.Lock()
	e.reqs = append(e.reqs, r)
	e.mu.Unlock()
	if e.err != nil {
		return nil, e.err
	}
	return &report.Build{Images: r.Images(), Duration: report.Duration(e.d)}, nil
}

// TestBuildOnceBeforeTheCells: the build is timed once and reported apart
// from the cells; a failed build makes every cell an error that says so and
// runs no exec; a ref under test is not built.
func TestBuildOnceBeforeTheCells(t *testing.T) {
	t.Parallel()
	cfg := testConfig("")
	cfg.Test.Matrix = config.Matrix{{Name: "shard", Values: []string{"1", "2", "3"}}}
	cfg.Test.Suites[0].Name = "unit-${shard}"
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	pass := func(role, cell string, attempt int) (ExecResult, error) {
		return ExecResult{Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": true})}}, nil
	}
	for _, tt := range []struct {
		name      string
		target    Target
		buildErr  error
		wantBuild bool
		status    report.Status
		execs     int
	}{
		{"built once, then three cells", Target{Role: Candidate}, nil, true, report.Pass, 3},
		{"a failed build: every cell an error, no exec", Target{Role: Candidate}, errors.New("Dockerfile:3: RUN exit 1"), false, report.Error, 0},
		{"a ref is not built", Target{Role: Baseline, Ref: "r@sha256:" + strings.Repeat("a", 64)}, nil, false, report.Pass, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng := &buildingEngine{testEngine: &testEngine{t: t, results: pass}, d: 19800 * time.Millisecond, err: tt.buildErr}
			rep := Test(context.Background(), eng, tt.target, plan.Cells, matrix.OptionsFrom(cfg.Test), report.Report{Revision: rev})
			if got := len(eng.execs); got != tt.execs {
				t.Errorf("%d execs, want %d", got, tt.execs)
			}
			wantBuilds := int32(1)
			if tt.target.Ref != "" {
				wantBuilds = 0
			}
			if n := eng.builds.Load(); n != wantBuilds {
				t.Errorf("%d builds, want %d", n, wantBuilds)
			}
			if (rep.Build != nil) != tt.wantBuild || (rep.Build != nil && (rep.Build.Images != 1 || rep.Build.Duration.Std() != 19800*time.Millisecond)) {
				t.Errorf("build %+v, want reported: %v", rep.Build, tt.wantBuild)
			}
			if len(rep.Cells) != 3 {
				t.Fatalf("%d cells", len(rep.Cells))
			}
			for _, c := range rep.Cells {
				if c.Status != tt.status || (tt.buildErr != nil && !strings.Contains(c.Reason, "building the image: Dockerfile:3")) {
					t.Errorf("cell %s: %s (%s), want %s", c.ID, c.Status, c.Reason, tt.status)
				}
			}
			var md strings.Builder
			if err := rep.WriteMarkdown(&md, ""); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(md.String(), "Built 1 image once, in 19.8s"); got != tt.wantBuild {
				t.Errorf("Markdown reports the build: %v, want %v\n%s", got, tt.wantBuild, md.String())
			}
		})
	}
}

// TestPromoteBuildFailsBeforeAnyWrite: a platform that does not build
// fails the promotion before anything is published or tagged, and the
// decision names the platform.
func TestPromoteBuildFailsBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	repo := reg.Ref("acme/app")
	base := registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{}).DigestStr()
	cfg := testConfig(repo)
	cfg.Build.Platforms = []string{"linux/amd64", "linux/arm64"}
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev, RunID: "42"}, time.Date(2026, 2, 4, 0, 0, 0, 0, time.UTC), "")
	if err != nil {
		t.Fatal(err)
	}
	pass := func(role, cell string, attempt int) (ExecResult, error) {
		return ExecResult{Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": true})}}, nil
	}
	eng := &buildingEngine{testEngine: &testEngine{t: t, results: pass}, err: errors.New("linux/arm64: Dockerfile:4: RUN apk add libfoo: exit 1")}
	client, err := registry.New(registry.WithFastBackoff())
	if err != nil {
		t.Fatal(err)
	}
	out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Now: time.Now()})
	if !errors.Is(err, ErrGateBlocked) {
		t.Fatalf("Promote = %v, want the gate blocked", err)
	}
	if len(eng.published) != 0 {
		t.Errorf("published %v after a failed build", eng.published)
	}
	if got, ok := registrytest.Head(t, repo+":stable"); !ok || got.DigestStr() != base {
		t.Errorf("stable moved to %v", got)
	}
	if md := out.Markdown(); !strings.Contains(md, "linux/arm64: Dockerfile:4") {
		t.Errorf("the summary does not name the platform that failed:\n%s", md)
	}
}

// TestRunnerStagesBuiltOnce: the Dockerfile stages the cells' runners need
// are built with the image, once each, before any cell, and counted; a
// baseline (a ref) builds the stages only.
func TestRunnerStagesBuiltOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig("")
	cfg.Test.Matrix = config.Matrix{{Name: "shard", Values: []string{"1", "2", "3"}}}
	app := []config.Service{{Name: "app", Image: config.AppImage, Ports: []int{8080}}}
	cfg.Test.Suites = []config.Suite{
		{Name: "waf-${shard}", Run: config.Command{Args: []string{"/waf"}}, Runner: config.Runner{Build: config.RunnerBuild{Target: "tests"}}, Services: app},
		{Name: "auth", Run: config.Command{Args: []string{"/auth"}}, Runner: config.Runner{Build: config.RunnerBuild{Target: "tests"}}, Services: app},
		{Name: "load", Run: config.Command{Args: []string{"/load"}}, Runner: config.Runner{Build: config.RunnerBuild{Target: "k6"}}, Services: app},
		{Name: "unit", Run: config.Command{Args: []string{"go", "test"}}},
	}
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	pass := func(role, cell string, attempt int) (ExecResult, error) { return ExecResult{}, nil }
	for _, tt := range []struct {
		name   string
		target Target
		want   BuildRequest
	}{
		{"candidate: the image and two stages", Target{Role: Candidate}, BuildRequest{Image: true, Stages: []Stage{{Target: "tests"}, {Target: "k6"}}}},
		{"baseline: the stages only", Target{Role: Baseline, Ref: "r@sha256:" + strings.Repeat("a", 64)}, BuildRequest{Stages: []Stage{{Target: "tests"}, {Target: "k6"}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng := &buildingEngine{testEngine: &testEngine{t: t, results: pass}, d: time.Second}
			rep := Test(context.Background(), eng, tt.target, plan.Cells, matrix.OptionsFrom(cfg.Test), report.Report{})
			if len(eng.reqs) != 1 || !reflect.DeepEqual(eng.reqs[0], tt.want) {
				t.Fatalf("builds %+v, want one %+v", eng.reqs, tt.want)
			}
			if rep.Build == nil || rep.Build.Images != tt.want.Images() {
				t.Errorf("report build %+v, want %d images", rep.Build, tt.want.Images())
			}
			for _, cl := range eng.calls {
				wantStage := map[string]string{"waf": "tests", "auth": "tests", "load": "k6"}[strings.SplitN(strings.TrimPrefix(cl.x.Env[len(cl.x.Env)-1], "SLIPWAY_CELL="), "-", 2)[0]]
				if cl.x.Runner.Stage != (Stage{Target: wantStage}) {
					t.Errorf("%v ran in stage %q, want %q", cl.x.Env, cl.x.Runner.Stage, wantStage)
				}
			}
		})
	}
}
