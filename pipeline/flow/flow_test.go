package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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

const rev = "abc12345def67890abcdef0123456789abcdef01"

func junit(cases map[string]bool) string {
	var b strings.Builder
	b.WriteString(`<testsuites><testsuite name="pkg" tests="` + fmt.Sprint(len(cases)) + `">`)
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if cases[n] {
			fmt.Fprintf(&b, `<testcase classname="pkg" name="%s" time="0.1"/>`, n)
		} else {
			fmt.Fprintf(&b, `<testcase classname="pkg" name="%s" time="0.1"><failure message="boom">boom</failure></testcase>`, n)
		}
	}
	b.WriteString(`</testsuite></testsuites>`)
	return b.String()
}

// testEngine runs no containers: each exec's result comes from results, by
// role and cell; Publish pushes a real image to the real registry.
type testEngine struct {
	t       *testing.T
	results func(role, cell string, attempt int) (ExecResult, error)

	// scans returns a Trivy report by role; nil means scanning must not
	// happen.
	scans func(role string) ([]byte, error)

	// images returns an image's config by role (Inspect); nil means an
	// image that starts with /app and has a shell.
	images func(role string) (ImageConfig, error)
	// run, when set, runs every exec (e.g. runLocal) instead of results.
	run func(ctx context.Context, x Exec) (ExecResult, error)

	mu        sync.Mutex
	execs     []string // role/cell/attempt and the target ref
	calls     []call   // every exec, whole
	published []string
	scanned   []string // role and the target ref
}

func (e *testEngine) Scan(ctx context.Context, t Target) ([]byte, error) {
	e.mu.Lock()
	e.scanned = append(e.scanned, t.Role+" "+t.Ref)
	e.mu.Unlock()
	if e.scans == nil {
		e.t.Errorf("scanned %s with scanning off", t.Role)
		return nil, errors.New("no scans")
	}
	return e.scans(t.Role)
}

// call is one exec the engine was asked to run.
type call struct {
	t Target
	x Exec
}

func (e *testEngine) Inspect(ctx context.Context, t Target) (ImageConfig, error) {
	if e.images == nil {
		return ImageConfig{Cmd: []string{"/app"}, Shell: true}, nil
	}
	return e.images(t.Role)
}

func (e *testEngine) Exec(ctx context.Context, t Target, x Exec) (ExecResult, error) {
	var cell, attempt string
	for _, kv := range x.Env {
		if v, ok := strings.CutPrefix(kv, "SLIPWAY_CELL="); ok {
			cell = v
		}
		if v, ok := strings.CutPrefix(kv, "SLIPWAY_ATTEMPT="); ok {
			attempt = v
		}
	}
	e.mu.Lock()
	e.execs = append(e.execs, t.Role+"/"+cell+"/"+attempt+" "+t.Ref)
	e.calls = append(e.calls, call{t, x})
	e.mu.Unlock()
	if e.run != nil {
		return e.run(ctx, x)
	}
	var n int
	fmt.Sscan(attempt, &n)
	return e.results(t.Role, cell, n)
}

func (e *testEngine) Publish(ctx context.Context, ref string) (string, error) {
	d := registrytest.PushImage(e.t, ref, registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: rev}})
	e.mu.Lock()
	e.published = append(e.published, ref)
	e.mu.Unlock()
	return ref + "@" + d.DigestStr(), nil
}

func testConfig(image string) *config.Config {
	cfg := config.Default()
	cfg.Image = image
	cfg.Test.Retries = 1
	cfg.Test.Suites = []config.Suite{{
		Name:    "unit",
		Run:     config.Command{Args: []string{"go", "test", "./..."}},
		Reports: []string{"/out/junit.xml"},
	}}
	return &cfg
}

func TestPromote(t *testing.T) {
	pass := map[string]bool{"TestA": true, "TestB": true}
	regress := map[string]bool{"TestA": true, "TestB": false}
	result := func(cases map[string]bool) ExecResult {
		code := 0
		for _, ok := range cases {
			if !ok {
				code = 1
			}
		}
		return ExecResult{ExitCode: code, Output: "ran", Files: map[string]string{"/out/junit.xml": junit(cases)}}
	}
	tests := []struct {
		name         string
		baseline     bool // push a baseline under :stable first
		candidate    map[string]bool
		engineErr    bool
		dryRun       bool
		pr           int
		wantErr      error
		wantMode     string
		wantStableTo string // "candidate", "baseline" or "none"
	}{
		{name: "first promotion runs strict and creates stable", candidate: pass, wantMode: config.ModeStrict, wantStableTo: "candidate"},
		{name: "equal to the baseline moves stable", baseline: true, candidate: pass, wantMode: config.ModeNoRegression, wantStableTo: "candidate"},
		{name: "regression blocks and publishes nothing", baseline: true, candidate: regress, wantErr: ErrGateBlocked, wantMode: config.ModeNoRegression, wantStableTo: "baseline"},
		{name: "pull request publishes but never moves stable", baseline: true, candidate: pass, pr: 7, wantMode: config.ModeNoRegression, wantStableTo: "baseline"},
		{name: "dry run publishes nothing", baseline: true, candidate: pass, dryRun: true, wantMode: config.ModeNoRegression, wantStableTo: "baseline"},
		{name: "engine error never passes", baseline: true, candidate: pass, engineErr: true, wantErr: ErrGateBlocked, wantStableTo: "baseline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t)
			repo := reg.Ref("acme/app")
			var baseDigest string
			if tt.baseline {
				baseDigest = registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{}).DigestStr()
			}
			plan, err := runplan.New(testConfig(repo), gitctx.Context{Revision: rev, RunID: "42", PR: tt.pr}, time.Date(2026, 2, 4, 0, 0, 0, 0, time.UTC), "")
			if err != nil {
				t.Fatal(err)
			}
			eng := &testEngine{t: t, results: func(role, cell string, attempt int) (ExecResult, error) {
				if role == Baseline {
					return result(pass), nil
				}
				if tt.engineErr {
					return ExecResult{}, errors.New("engine: connection lost")
				}
				return result(tt.candidate), nil
			}}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{
				Plan: plan, Test: testConfig(repo).Test, Registry: client, Engine: eng,
				DryRun: tt.dryRun, Now: time.Date(2026, 2, 4, 1, 0, 0, 0, time.UTC),
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Promote() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantMode != "" && out.Decision.Mode != tt.wantMode {
				t.Errorf("mode %q, want %q", out.Decision.Mode, tt.wantMode)
			}
			if tt.baseline && out.BaselineDigest != repo+"@"+baseDigest {
				t.Errorf("baseline %q, want %q", out.BaselineDigest, repo+"@"+baseDigest)
			}
			// Baseline cells ran on the baseline digest, and only there.
			for _, x := range eng.execs {
				if strings.HasPrefix(x, Baseline+"/") && !strings.HasSuffix(x, " "+repo+"@"+baseDigest) {
					t.Errorf("baseline exec on the wrong image: %s", x)
				}
			}
			stable, ok := registrytest.Head(t, repo+":stable")
			switch tt.wantStableTo {
			case "baseline":
				if !ok || stable.DigestStr() != baseDigest {
					t.Errorf("stable = %v, want the baseline %s untouched", stable, baseDigest)
				}
			case "candidate":
				if out.Published == "" || !ok || !strings.HasSuffix(out.Published, "@"+stable.DigestStr()) {
					t.Errorf("stable = %v, want the published candidate %s", stable, out.Published)
				}
				sha, ok := registrytest.Head(t, repo+":sha-abc1234")
				if !ok || sha.DigestStr() != stable.DigestStr() {
					t.Errorf("sha-abc1234 = %v, want the candidate", sha)
				}
			}
			if tt.pr != 0 {
				if d, ok := registrytest.Head(t, repo+":pr-7-abc1234"); !ok || !strings.HasSuffix(out.Published, "@"+d.DigestStr()) {
					t.Errorf("pr-7-abc1234 = %v, want the published candidate %s", d, out.Published)
				}
			}
			if tt.wantErr != nil || tt.dryRun {
				if len(eng.published) != 0 {
					t.Errorf("published %v, want nothing", eng.published)
				}
			}
			if md := out.Markdown(); !strings.Contains(md, out.Decision.Headline()) {
				t.Errorf("markdown lacks the decision: %s", md)
			}
			if errors.Is(err, ErrGateBlocked) {
				brief := out.Brief()
				for _, r := range out.Decision.Blocking() {
					if !strings.Contains(brief, "- "+r.String()+"\n") {
						t.Errorf("brief lacks the blocking reason %q:\n%s", r, brief)
					}
				}
				if strings.Contains(brief, "### ") || !strings.Contains(brief, "--no-fail markdown") {
					t.Errorf("brief is not a few lines saying where the report is:\n%s", brief)
				}
			}
		})
	}
}

func TestRetryChangesTheExec(t *testing.T) {
	cfg := testConfig("")
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	eng := &testEngine{t: t, results: func(role, cell string, attempt int) (ExecResult, error) {
		if attempt == 1 {
			return ExecResult{ExitCode: 1, Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": false})}}, nil
		}
		return ExecResult{Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": true})}}, nil
	}}
	rep := Test(context.Background(), eng, Target{Role: Candidate}, plan.Cells, matrix.OptionsFrom(cfg.Test), report.Report{Revision: rev})
	if len(rep.Cells) != 1 || rep.Cells[0].Status != "flaky" {
		t.Fatalf("cells %+v, want one flaky", rep.Cells)
	}
	want := []string{"candidate/unit/1 ", "candidate/unit/2 "}
	if !slices.Equal(eng.execs, want) {
		t.Errorf("execs %q, want %q (a retry must change SLIPWAY_ATTEMPT)", eng.execs, want)
	}
}

func TestOutcome(t *testing.T) {
	x := Exec{Reports: []string{"/out/a.xml", "/out/b.xml"}}
	tests := []struct {
		name      string
		files     map[string]string
		wantCases int
		wantLog   string
		wantErr   string
	}{
		{name: "both reports", files: map[string]string{"/out/a.xml": junit(map[string]bool{"A": true}), "/out/b.xml": junit(map[string]bool{"B": true, "C": false})}, wantCases: 3},
		{name: "missing report is noted", files: map[string]string{"/out/a.xml": junit(map[string]bool{"A": true})}, wantCases: 1, wantLog: "report /out/b.xml was not written"},
		{name: "malformed report is an error", files: map[string]string{"/out/a.xml": "<testsuite><testcase", "/out/b.xml": ""}, wantErr: "report /out/a.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Outcome(x, ExecResult{Files: tt.files})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Cases) != tt.wantCases || !strings.Contains(o.Log, tt.wantLog) {
				t.Errorf("cases %d log %q", len(o.Cases), o.Log)
			}
		})
	}
}

func TestExecFor(t *testing.T) {
	cfg := config.Default()
	cfg.Test.Matrix = config.Matrix{{Name: "browser", Values: []string{"firefox"}}}
	cfg.Test.Suites = []config.Suite{{Name: "e2e-${browser}", Run: config.Command{Shell: "npx playwright test --project=${browser}"}, Env: map[string]string{"B": "${browser}"}}}
	plan, err := runplan.New(&cfg, gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	x := ExecFor(plan.Cells[0], 2)
	if !slices.Equal(x.Argv, []string{"sh", "-c", "npx playwright test --project=firefox"}) {
		t.Errorf("argv %q", x.Argv)
	}
	if !slices.Equal(x.Env, []string{"B=firefox", "SLIPWAY_ATTEMPT=2", "SLIPWAY_CELL=e2e-firefox"}) {
		t.Errorf("env %q", x.Env)
	}
}

// TestPromoteRerun: a re-run of the same revision builds a new digest (its
// created and run-id labels differ); the immutable tag is never overwritten,
// the image already there is promoted. Another revision's image under that
// tag is refused, with nothing published and stable untouched.
func TestPromoteRerun(t *testing.T) {
	pass := ExecResult{Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": true})}}
	tests := []struct {
		name        string
		existingRev string // revision label of the image already at sha-abc1234
		wantErr     error
		wantReused  bool
	}{
		{name: "same revision is promoted again, not republished", existingRev: rev, wantReused: true},
		{name: "another revision is refused", existingRev: "1111111111222222222233333333334444444444", wantErr: registry.ErrTagExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t)
			repo := reg.Ref("acme/app")
			base := registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{}).DigestStr()
			prev := registrytest.PushImage(t, repo+":sha-abc1234", registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: tt.existingRev}}).DigestStr()
			plan, err := runplan.New(testConfig(repo), gitctx.Context{Revision: rev, RunID: "43"}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			eng := &testEngine{t: t, results: func(string, string, int) (ExecResult, error) { return pass, nil }}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: testConfig(repo).Test, Registry: client, Engine: eng, Now: time.Now()})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Promote() error = %v, want %v", err, tt.wantErr)
			}
			if len(eng.published) != 0 {
				t.Errorf("published %v: an existing immutable tag must never be overwritten", eng.published)
			}
			checkTagged(t, repo, out, prev, base, tt.wantReused)
		})
	}
}

// checkTagged checks what a promotion over an image already at
// sha-abc1234 (held) left: that tag untouched; stable on held when the run
// reused it, else still on base.
func checkTagged(t *testing.T, repo string, out *Promotion, held, base string, reused bool) {
	t.Helper()
	if d, _ := registrytest.Head(t, repo+":sha-abc1234"); d.DigestStr() != held {
		t.Errorf("sha-abc1234 = %s, want %s untouched", d.DigestStr(), held)
	}
	wantStable := base
	if reused {
		wantStable = held
	}
	if d, _ := registrytest.Head(t, repo+":stable"); d.DigestStr() != wantStable {
		t.Errorf("stable = %s, want %s", d.DigestStr(), wantStable)
	}
	if out.Reused != reused {
		t.Errorf("reused %v, want %v", out.Reused, reused)
	}
}

// racingEngine publishes like testEngine, then lets another run of the
// pipeline tag its own image first (race), as a branch push and a tag push
// of one commit do when both pass their gates at once.
type racingEngine struct {
	*testEngine
	race func()
}

func (e *racingEngine) Publish(ctx context.Context, ref string) (string, error) {
	d, err := e.testEngine.Publish(ctx, ref)
	e.race()
	return d, err
}

// TestPromoteConcurrentRun: the engine publishes under the staging tag,
// never an immutable tag, so a run that loses the race for sha-abc1234
// never overwrites it. When the winner built the same revision, the loser
// promotes the winner's image (as a re-run would); another revision's
// image is refused with stable untouched.
func TestPromoteConcurrentRun(t *testing.T) {
	pass := ExecResult{Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": true})}}
	tests := []struct {
		name       string
		winnerRev  string
		wantErr    error
		wantReused bool
	}{
		{name: "same revision: the winner's image is promoted", winnerRev: rev, wantReused: true},
		{name: "another revision: refused", winnerRev: "1111111111222222222233333333334444444444", wantErr: registry.ErrTagExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t)
			repo := reg.Ref("acme/app")
			base := registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{}).DigestStr()
			plan, err := runplan.New(testConfig(repo), gitctx.Context{Revision: rev, RunID: "44"}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			var winner string
			eng := &racingEngine{
				testEngine: &testEngine{t: t, results: func(string, string, int) (ExecResult, error) { return pass, nil }},
				race: func() {
					winner = registrytest.PushImage(t, repo+":sha-abc1234", registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: tt.winnerRev}}).DigestStr()
				},
			}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: testConfig(repo).Test, Registry: client, Engine: eng, Now: time.Now()})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Promote() error = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(eng.published, []string{repo + ":" + registry.PublishTag}) {
				t.Errorf("published %v, want only the staging tag", eng.published)
			}
			checkTagged(t, repo, out, winner, base, tt.wantReused)
		})
	}
}

// TestPromoteTwoRunsOfOneCommit runs two whole promotions of one revision
// at once (a branch push and a tag push), 3 rounds: both succeed, one
// image carries the immutable tag and stable, and it carries both runs'
// promotion records (the run that reuses the other's image waits for the
// other's record before writing its own into the same fallback index).
func TestPromoteTwoRunsOfOneCommit(t *testing.T) {
	pass := ExecResult{Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": true})}}
	reg := registrytest.New(t)
	client, err := registry.New(registry.WithFastBackoff(), registry.WithLease(100*time.Millisecond, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		repo := reg.Ref(fmt.Sprintf("acme/app%d", round))
		registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{})
		var outs [2]*Promotion
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 2 {
			plan, err := runplan.New(testConfig(repo), gitctx.Context{Revision: rev, RunID: fmt.Sprint(i + 1)}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			eng := &testEngine{t: t, results: func(string, string, int) (ExecResult, error) { return pass, nil }}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				outs[i], errs[i] = Promote(context.Background(), PromoteOptions{Plan: plan, Test: testConfig(repo).Test, Registry: client, Engine: eng, Now: time.Now()})
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: run %d: %v", round, i+1, err)
			}
		}
		if outs[0].Reused == outs[1].Reused {
			t.Fatalf("round %d: reused %v and %v, want exactly one run reusing the other's image", round, outs[0].Reused, outs[1].Reused)
		}
		sha, _ := registrytest.Head(t, repo+":sha-abc1234")
		if stable, _ := registrytest.Head(t, repo+":stable"); stable.DigestStr() != sha.DigestStr() {
			t.Fatalf("round %d: stable %s, sha-abc1234 %s", round, stable.DigestStr(), sha.DigestStr())
		}
		recs, err := client.ReadPromotionRecords(context.Background(), sha)
		if err != nil {
			t.Fatal(err)
		}
		runs := map[string]bool{}
		for _, r := range recs {
			runs[r.RunID] = true
		}
		// The run that published records its promotion; the run that
		// reused its image moved nothing, so it records nothing new once
		// the winner's record is there (and its own only if it read the
		// records before the winner's was written).
		winner, reuser := 1, 2
		if outs[0].Reused {
			winner, reuser = 2, 1
		}
		wrote := outs[reuser-1].Result != nil && outs[reuser-1].Result.RecordAct == registry.Created
		if !runs[fmt.Sprint(winner)] || runs[fmt.Sprint(reuser)] != wrote {
			t.Fatalf("round %d: records of runs %v on %s; want the publishing run %d's, and run %d's only if it wrote one (%v)",
				round, runs, sha.DigestStr(), winner, reuser, wrote)
		}
	}
}

// elsewhereEngine is an engine whose pushes into the ephemeral registry
// land in another registry (as an engine.json entry for the address made a
// real engine do): it reports the digest under the name the plan uses.
type elsewhereEngine struct {
	*testEngine
	foreign string // host of the registry the push lands in
}

func (e *elsewhereEngine) Publish(ctx context.Context, ref string) (string, error) {
	repo, tag, _ := strings.Cut(strings.TrimPrefix(ref, runplan.EphemeralRepository), ":")
	d := registrytest.PushImage(e.t, e.foreign+"/slipway"+repo+":"+tag, registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: rev}})
	e.mu.Lock()
	e.published = append(e.published, ref)
	e.mu.Unlock()
	return ref + "@" + d.DigestStr(), nil
}

// TestPromotePublishedElsewhere: a push that did not land in the
// registry the plan names (the ephemeral registry's service) stops the
// promotion before any tag is written, in the service or elsewhere.
func TestPromotePublishedElsewhere(t *testing.T) {
	service, foreign := registrytest.New(t), registrytest.New(t)
	pass := ExecResult{Files: map[string]string{"/out/junit.xml": junit(map[string]bool{"TestA": true})}}
	cfg := testConfig("")
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev, RunID: "44", Branch: "main"}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Ephemeral {
		t.Fatal("want a plan into the ephemeral registry")
	}
	eng := &elsewhereEngine{testEngine: &testEngine{t: t, results: func(string, string, int) (ExecResult, error) { return pass, nil }}, foreign: foreign.Host()}
	client, err := registry.New(registry.WithFastBackoff())
	if err != nil {
		t.Fatal(err)
	}
	out, err := Promote(context.Background(), PromoteOptions{
		Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Now: time.Now(), RegistryHost: service.Host(),
	})
	if !errors.Is(err, ErrPublishedElsewhere) {
		t.Fatalf("Promote() error = %v, want ErrPublishedElsewhere", err)
	}
	if !strings.Contains(err.Error(), runplan.EphemeralRepository) || strings.Contains(err.Error(), service.Host()) {
		t.Errorf("error %q: want it to name %s as users know it", err, runplan.EphemeralRepository)
	}
	if out.Result != nil || out.Published != "" {
		t.Errorf("promotion result %+v, published %q: want nothing promoted", out.Result, out.Published)
	}
	for _, reg := range []*registrytest.Registry{service, foreign} {
		for _, tag := range plan.Immutable() {
			if d, ok := registrytest.Head(t, reg.Ref("slipway:"+tag)); ok {
				t.Errorf("%s holds %s at %s: want no tag written", reg.Host(), tag, d.DigestStr())
			}
		}
		if d, ok := registrytest.Head(t, reg.Ref("slipway:"+plan.Floating()[0])); ok {
			t.Errorf("%s holds %s at %s: want no floating tag", reg.Host(), plan.Floating()[0], d.DigestStr())
		}
	}
}
