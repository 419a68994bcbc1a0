package flow

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gate"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

var redis = "docker.io/library/redis@sha256:" + strings.Repeat("e", 64)

// clusterConfig is the two-image setup of the issue: a localnode and an
// rpcnode (each its own repository under host, "" for the ephemeral
// registry), started together as services with HTTP health checks beside
// a sidecar, a matrix of jobs in a runner built from a stage of rpcnode's Dockerfile
// against them, rpcnode's self test run in the rpcnode image against a
// localnode, and localnode's alone in its image.
func clusterConfig(host string) *config.Config {
	cfg := config.Default()
	cfg.Images = []config.Image{config.DefaultImage(), config.DefaultImage()}
	cfg.Images[0].Name, cfg.Images[1].Name = "localnode", "rpcnode"
	cfg.Images[1].Build.Dockerfile = "rpcnode.Dockerfile"
	if host != "" {
		cfg.Images[0].Image, cfg.Images[1].Image = host+"/acme/localnode", host+"/acme/rpcnode"
	}
	cfg.Scan.Mode = config.ScanOff
	cfg.Test.Retries = 0
	cfg.Test.Matrix = config.Matrix{{Name: "job", Values: []string{"transfers", "contracts", "rpc"}}}
	localnode := config.Service{Name: "localnode", Image: "localnode", Ports: []int{8545}, Health: config.Health{HTTP: "/health"}}
	cfg.Test.Suites = []config.Suite{{
		Name:    "chain-${job}",
		Run:     config.Command{Args: []string{"/tests/run.sh", "${job}"}},
		Reports: []string{"/out/junit.xml"},
		Runner:  config.Runner{Build: config.RunnerBuild{Target: "chain-tests", Image: "rpcnode"}},
		Services: []config.Service{
			{Name: "cache", Ref: redis, Ports: []int{6379}},
			localnode,
			{Name: "rpcnode", Image: "rpcnode", Ports: []int{8546}, Env: map[string]string{"UPSTREAM": "http://localnode:8545"}, Health: config.Health{HTTP: "/ready"}},
		},
	}, {
		Name:     "rpc-selftest",
		Image:    "rpcnode",
		Run:      config.Command{Args: []string{"rpcnode", "selftest"}},
		Reports:  []string{"/out/junit.xml"},
		Services: []config.Service{localnode},
	}, {
		Name:    "localnode-selftest",
		Image:   "localnode",
		Run:     config.Command{Args: []string{"localnode", "selftest"}},
		Reports: []string{"/out/junit.xml"},
	}}
	return &cfg
}

// clusterEngine runs no containers. A cell's cases pass unless an image
// under test in it is the candidate named regressed (its case "rpc" then
// fails); a candidate service named unhealthy never gets healthy. It
// counts the builds of each image and publishes real images.
type clusterEngine struct {
	t         *testing.T
	regressed string
	unhealthy string

	mu        sync.Mutex
	built     map[string]int // image name or "stage NAME" -> builds
	calls     []call
	published []string
}

func (e *clusterEngine) Build(ctx context.Context, r BuildRequest) (*report.Build, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.built == nil {
		e.built = map[string]int{}
	}
	for _, n := range r.Names {
		e.built[n]++
	}
	if r.Image && r.Names == nil {
		e.built["(unnamed)"]++
	}
	for _, st := range r.Stages {
		e.built["stage "+st.String()]++
	}
	return &report.Build{Images: r.Images()}, nil
}

func (e *clusterEngine) Exec(ctx context.Context, t Target, x Exec) (ExecResult, error) {
	e.mu.Lock()
	e.calls = append(e.calls, call{t, x})
	e.mu.Unlock()
	var under []Target
	if x.Runner.IsZero() {
		under = append(under, t)
	}
	for _, s := range x.Services {
		if s.Image.Role != Sidecar {
			under = append(under, s.Image)
			if s.Image.Role == Candidate && s.Image.Image == e.unhealthy {
				return ExecResult{}, &UnhealthyError{Service: s.Name, Err: errors.New("after 60 checks in 1m0s: GET http://" + s.Name + "/ready: 503"), Log: "rpcnode: upstream localnode:8545: connection refused"}
			}
		}
	}
	cases := map[string]bool{"sync": true, "rpc": true}
	for _, u := range under {
		if u.Role == Candidate && u.Image == e.regressed {
			cases["rpc"] = false
		}
	}
	code := 0
	if !cases["rpc"] {
		code = 1
	}
	return ExecResult{ExitCode: code, Files: map[string]string{"/out/junit.xml": junit(cases)}}, nil
}

func (e *clusterEngine) Publish(ctx context.Context, ref string) (string, error) {
	e.t.Errorf("Publish(%s): a run of several images publishes each by name", ref)
	return "", errors.New("unnamed publish")
}

func (e *clusterEngine) PublishImage(ctx context.Context, name, ref string) (string, error) {
	d := registrytest.PushImage(e.t, ref, registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: rev, "name": name}})
	e.mu.Lock()
	e.published = append(e.published, name+" "+ref)
	e.mu.Unlock()
	return ref + "@" + d.DigestStr(), nil
}

func (e *clusterEngine) Scan(ctx context.Context, t Target) ([]byte, error) {
	e.t.Errorf("scanned %+v with scanning off", t)
	return nil, errors.New("no scans")
}

func (e *clusterEngine) Inspect(ctx context.Context, t Target) (ImageConfig, error) {
	return ImageConfig{Cmd: []string{"/node"}, Shell: true}, nil
}

// TestPromoteImages runs the two-image setup through Promote with the fake
// engine, candidate and baseline: each image is built once per run; a pass
// promotes both images' tags together; a regression in one image blocks
// both; an unhealthy service is an error; an image with no baseline yet
// has its cells judged strict.
func TestPromoteImages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		baselines  []bool // per image: a baseline under :stable
		pr         int
		regressed  string
		unhealthy  string
		wantErr    error
		wantMode   string
		wantStable string // "candidate" or "baseline" (or none) for both
		wantBlock  []gate.Kind
		wantNote   string // a non-blocking reason
	}{
		{name: "both pass: both promoted together", baselines: []bool{true, true}, wantMode: config.ModeNoRegression, wantStable: "candidate"},
		{name: "a regression in rpcnode blocks both", baselines: []bool{true, true}, regressed: "rpcnode", wantErr: ErrGateBlocked, wantMode: config.ModeNoRegression, wantStable: "baseline", wantBlock: []gate.Kind{gate.Regression}},
		{name: "an unhealthy rpcnode is an error", baselines: []bool{true, true}, unhealthy: "rpcnode", wantErr: ErrGateBlocked, wantMode: config.ModeNoRegression, wantStable: "baseline", wantBlock: []gate.Kind{gate.CellError}},
		{name: "first promotion of both: strict", baselines: []bool{false, false}, wantMode: config.ModeStrict, wantStable: "candidate"},
		{name: "rpcnode has no baseline yet: its cells judged strict", baselines: []bool{true, false}, wantMode: config.ModeNoRegression, wantStable: "candidate", wantNote: "image rpcnode has no baseline yet"},
		{name: "a pull request moves no floating tag", baselines: []bool{true, true}, pr: 9, wantMode: config.ModeNoRegression, wantStable: "baseline"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t)
			host := strings.TrimSuffix(reg.Ref("x"), "/x")
			cfg := clusterConfig(host)
			plan, err := runplan.New(cfg, gitctx.Context{Revision: rev, RunID: "51", PR: tt.pr}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			bases := make([]string, 2)
			for i, im := range plan.Images {
				if tt.baselines[i] {
					bases[i] = registrytest.PushImage(t, im.Repository+":stable", registrytest.ImageSpec{}).DigestStr()
				}
			}
			eng := &clusterEngine{t: t, regressed: tt.regressed, unhealthy: tt.unhealthy}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Now: time.Now()})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Promote() error = %v, want %v", err, tt.wantErr)
			}
			if out.Decision.Mode != tt.wantMode {
				t.Errorf("mode %s, want %s", out.Decision.Mode, tt.wantMode)
			}
			// Each image built once per run, the runner stage with them.
			if want := map[string]int{"localnode": 1, "rpcnode": 1, "stage chain-tests (rpcnode's Dockerfile)": 1 + b2i(tt.baselines[0] && tt.baselines[1])}; !maps.Equal(eng.built, want) {
				t.Errorf("built %v, want %v", eng.built, want)
			}
			checkCells(t, out, eng, tt.baselines, tt.unhealthy)
			var blocking []gate.Kind
			for _, r := range out.Decision.Blocking() {
				if !slices.Contains(blocking, r.Kind) {
					blocking = append(blocking, r.Kind)
				}
			}
			if !slices.Equal(blocking, tt.wantBlock) {
				t.Errorf("blocking kinds %v, want %v: %v", blocking, tt.wantBlock, out.Decision.Reasons)
			}
			if tt.wantNote != "" && !slices.ContainsFunc(out.Decision.Reasons, func(r gate.Reason) bool {
				return r.Kind == gate.NoBaseline && !r.Blocking && strings.Contains(r.Message, tt.wantNote) && strings.Contains(r.Message, "chain-rpc, rpc-selftest")
			}) {
				t.Errorf("no reason %q naming rpcnode's cells: %v", tt.wantNote, out.Decision.Reasons)
			}
			checkImagesTagged(t, plan, out, bases, tt.wantErr == nil, tt.wantStable)
			if tt.wantErr != nil && len(eng.published) != 0 {
				t.Errorf("published %v after the gate blocked", eng.published)
			}
			md := out.Markdown()
			for _, im := range plan.Images {
				if !strings.Contains(md, "| "+im.Name+" |") {
					t.Errorf("the summary has no row for %s:\n%s", im.Name, md)
				}
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkCells: every cell ran in the candidate; the baseline ran the cells
// whose images all have a baseline, with the same runner, sidecars and
// sources, differing from the candidate's exec in the images under test
// only; an unhealthy service made its cells errors that name it.
func checkCells(t *testing.T, out *Promotion, eng *clusterEngine, baselines []bool, unhealthy string) {
	t.Helper()
	execs := map[string]map[string]call{Candidate: {}, Baseline: {}}
	for _, cl := range eng.calls {
		execs[cl.t.Role][strings.TrimPrefix(cl.x.Env[len(cl.x.Env)-1], "SLIPWAY_CELL=")] = cl
	}
	if len(execs[Candidate]) != 5 {
		t.Errorf("candidate ran %d cells, want 5", len(execs[Candidate]))
	}
	wantBase := 0
	switch {
	case baselines[0] && baselines[1]:
		wantBase = 5
	case baselines[0]:
		wantBase = 1 // localnode-selftest: every other cell runs rpcnode
	}
	if len(execs[Baseline]) != wantBase {
		t.Errorf("baseline ran %d cells, want %d", len(execs[Baseline]), wantBase)
	}
	for id, c := range execs[Candidate] {
		if b, ok := execs[Baseline][id]; ok {
			x, y := c.x, b.x
			x.Services, y.Services = slices.Clone(x.Services), slices.Clone(y.Services)
			for i := range x.Services {
				// Each side's services are its own instances (SLIPWAY_ROLE).
				if !slices.Contains(y.Services[i].Env, "SLIPWAY_ROLE=baseline") {
					t.Errorf("%s: baseline service %s env %v, want SLIPWAY_ROLE=baseline", id, y.Services[i].Name, y.Services[i].Env)
				}
				y.Services[i].Env = x.Services[i].Env
				if x.Services[i].Image.Role == Sidecar {
					continue
				}
				if x.Services[i].Image.Image != y.Services[i].Image.Image || y.Services[i].Image.Role != Baseline || y.Services[i].Image.Ref == "" {
					t.Errorf("%s: baseline service %+v for candidate %+v", id, y.Services[i].Image, x.Services[i].Image)
				}
				x.Services[i].Image, y.Services[i].Image = Target{}, Target{}
			}
			if !reflect.DeepEqual(x, y) {
				t.Errorf("%s: candidate and baseline execs differ beyond the images under test:\n%+v\n%+v", id, x, y)
			}
			if c.t.Image != b.t.Image {
				t.Errorf("%s: commands run in %s and %s", id, c.t.Image, b.t.Image)
			}
		}
		if id == "rpc-selftest" && (c.t.Image != "rpcnode" || !c.x.Runner.IsZero()) {
			t.Errorf("the self test ran in %+v, runner %+v; want the rpcnode image", c.t, c.x.Runner)
		}
		if strings.HasPrefix(id, "chain-") && (c.x.Runner.Stage != (Stage{Image: "rpcnode", Target: "chain-tests"}) || c.x.Services[0].Image != (Target{Role: Sidecar, Ref: redis})) {
			t.Errorf("%s: runner %+v, sidecar %+v", id, c.x.Runner, c.x.Services[0].Image)
		}
	}
	for _, c := range out.Candidate.Cells {
		if unhealthy != "" && strings.HasPrefix(c.ID, "chain-") {
			if c.Status != report.Error || !strings.Contains(c.Reason, "service rpcnode never became healthy") || !strings.Contains(c.LogTail, "connection refused") {
				t.Errorf("%s: %s %q %q, want an error naming rpcnode with its log", c.ID, c.Status, c.Reason, c.LogTail)
			}
		}
	}
}

// checkImagesTagged: on a pass, each image was published once into its
// own repository and carries sha-abc1234 there, and stable moved for both
// (or, on a pull request, for neither); on a block nothing moved.
func checkImagesTagged(t *testing.T, plan *runplan.Plan, out *Promotion, bases []string, passed bool, wantStable string) {
	t.Helper()
	if len(out.Images) != 2 {
		t.Fatalf("images %+v", out.Images)
	}
	for i, im := range plan.Images {
		got := out.Images[i]
		if got.Name != im.Name || got.Repository != im.Repository || (got.Baseline != "") != (bases[i] != "") {
			t.Errorf("image %d: %+v", i, got)
		}
		sha, shaOK := registrytest.Head(t, im.Repository+":sha-abc1234")
		stable, stableOK := registrytest.Head(t, im.Repository+":stable")
		if passed {
			if !shaOK || !strings.HasPrefix(got.Published, im.Repository+":slipway-publish@") || !strings.HasSuffix(got.Published, "@"+sha.DigestStr()) || got.Result == nil {
				t.Errorf("%s: published %q, sha-abc1234 %v", im.Name, got.Published, sha)
			}
		} else if shaOK || got.Published != "" {
			t.Errorf("%s: published %q, sha-abc1234 %v after a block", im.Name, got.Published, sha)
		}
		switch {
		case wantStable == "candidate" && (!stableOK || stable.DigestStr() != sha.DigestStr()):
			t.Errorf("%s:stable = %v, want the candidate %v", im.Name, stable, sha)
		case wantStable == "baseline" && bases[i] != "" && stable.DigestStr() != bases[i]:
			t.Errorf("%s:stable = %v, want the baseline %s", im.Name, stable, bases[i])
		case wantStable == "baseline" && bases[i] == "" && stableOK:
			t.Errorf("%s:stable = %v, want none", im.Name, stable)
		}
	}
}

// TestPromoteImagesRollback: when a later image cannot move its floating
// tag (the registry fails its write), the earlier image's floating tag goes
// back to its baseline, reported; no image is left promoted alone.
func TestPromoteImagesRollback(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	upstream := strings.TrimSuffix(reg.Ref("x"), "/x")
	proxy := registrytest.NewFaultProxy(t, upstream, 1)
	cfg := clusterConfig(proxy.Host())
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev, RunID: "52"}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	bases := make([]string, 2)
	for i, im := range plan.Images {
		bases[i] = registrytest.PushImage(t, im.Repository+":stable", registrytest.ImageSpec{}).DigestStr()
	}
	fault := &registrytest.Rule{Method: "PUT", Path: `/acme/rpcnode/manifests/stable$`, Fault: registrytest.Status, Status: 500}
	if err := proxy.SetRules(fault); err != nil {
		t.Fatal(err)
	}
	eng := &clusterEngine{t: t}
	client, err := registry.New(registry.WithFastBackoff())
	if err != nil {
		t.Fatal(err)
	}
	out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Now: time.Now()})
	if err == nil || errors.Is(err, ErrGateBlocked) {
		t.Fatalf("Promote() error = %v, want the registry's", err)
	}
	if !out.Decision.Pass || fault.Injected() == 0 {
		t.Fatalf("pass %v, faults injected %d", out.Decision.Pass, fault.Injected())
	}
	for i, im := range plan.Images {
		if d, _ := registrytest.Head(t, im.Repository+":stable"); d.DigestStr() != bases[i] {
			t.Errorf("%s:stable = %s, want its baseline %s back", im.Name, d.DigestStr(), bases[i])
		}
	}
	if len(out.Undone) != 1 || !strings.Contains(out.Undone[0], "acme/localnode:stable rolled back") || !strings.Contains(out.Undone[0], "all or nothing") {
		t.Errorf("undone %q, want localnode's stable moved back", out.Undone)
	}
	res := out.Images[0].Result
	if res == nil || res.Tags[len(res.Tags)-1].Action != registry.RolledBack {
		t.Errorf("localnode's registry result %+v, want stable rolled back", res)
	}
	md := out.Markdown()
	if !strings.Contains(md, "Moved back (all or nothing)") {
		t.Errorf("the summary does not report the move back:\n%s", md)
	}
	t.Logf("PromoteAll rollback: %d faults injected; undone: %s", fault.Injected(), strings.Join(out.Undone, "; "))
}

// TestBaselineOf: a baseline given by refs (the sharded workflow's
// baseline jobs) tests only the images it has, builds nothing, and leaves
// out the cells of an image with no baseline yet, so that the gate judges
// them on the candidate alone: a new image that fails is never excused as
// a known failure of a "baseline" that ran the candidate's image.
func TestBaselineOf(t *testing.T) {
	t.Parallel()
	plan, err := runplan.New(clusterConfig("ghcr.io"), gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	local := "ghcr.io/acme/localnode@sha256:" + strings.Repeat("a", 64)
	rpc := "ghcr.io/acme/rpcnode@sha256:" + strings.Repeat("b", 64)
	for _, tt := range []struct {
		name   string
		refs   []string
		images []string
		cells  []string
		err    string
	}{
		{"both images", []string{local, rpc}, []string{"localnode=" + local, "rpcnode=" + rpc},
			[]string{"chain-transfers", "chain-contracts", "chain-rpc", "rpc-selftest", "localnode-selftest"}, ""},
		{"rpcnode has none yet", []string{local, ""}, []string{"localnode=" + local}, []string{"localnode-selftest"}, ""},
		{"none", []string{"", ""}, nil, nil, "a baseline is given by ref"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, cells, err := BaselineOf(plan, tt.refs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("BaselineOf = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var images, ids []string
			for _, im := range s.Images {
				if im.Ref == "" {
					t.Errorf("the baseline builds %s from source", im.Image)
				}
				images = append(images, im.Image+"="+im.Ref)
			}
			for _, c := range cells {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(images, tt.images) || !slices.Equal(ids, tt.cells) {
				t.Errorf("images %v and cells %v, want %v and %v", images, ids, tt.images, tt.cells)
			}
			if s.Role != Baseline || s.buildRequest(nil).Images() != 0 {
				t.Errorf("subject %+v: a baseline builds nothing", s)
			}
		})
	}
}

// racingCluster publishes like clusterEngine; after the last image, another
// run of the pipeline promotes its own pair first (race): each image tagged
// sha-abc1234 in its repository and stable moved to it, as a branch push
// and a tag push of one commit do when both pass their gates at once.
type racingCluster struct {
	*clusterEngine
	images int
	race   func()
}

func (e *racingCluster) PublishImage(ctx context.Context, name, ref string) (string, error) {
	d, err := e.clusterEngine.PublishImage(ctx, name, ref)
	e.mu.Lock()
	last := len(e.published) == e.images
	e.mu.Unlock()
	if last {
		e.race()
	}
	return d, err
}

// TestPromoteImagesConcurrentRun: the loser of such a race finds the
// winner's group promoted (each image of this revision, stable on it) and
// reports that, promoting the winner's images, instead of failing; a
// winner of another revision is refused, stable left where it was.
func TestPromoteImagesConcurrentRun(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		winnerRev string
		wantErr   error
	}{
		{name: "same revision: the winner's pair is reported promoted", winnerRev: rev},
		{name: "another revision: refused", winnerRev: "1111111111222222222233333333334444444444", wantErr: registry.ErrTagExists},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t)
			cfg := clusterConfig(reg.Host())
			plan, err := runplan.New(cfg, gitctx.Context{Revision: rev, RunID: "45"}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			bases := map[string]string{}
			for _, im := range plan.Images {
				bases[im.Name] = registrytest.PushImage(t, im.Repository+":stable", registrytest.ImageSpec{}).DigestStr()
			}
			winners := map[string]string{}
			eng := &racingCluster{clusterEngine: &clusterEngine{t: t}, images: len(plan.Images), race: func() {
				for _, im := range plan.Images {
					d := registrytest.PushImage(t, im.Repository+":sha-abc1234", registrytest.ImageSpec{Labels: map[string]string{registry.RevisionLabel: tt.winnerRev, "winner": im.Name}})
					if tt.winnerRev == rev {
						registrytest.Tag(t, im.Repository+":stable", d)
					}
					winners[im.Name] = d.DigestStr()
				}
			}}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Now: time.Now()})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Promote() error = %v, want %v", err, tt.wantErr)
			}
			for i, im := range plan.Images {
				stable, _ := registrytest.Head(t, im.Repository+":stable")
				sha, _ := registrytest.Head(t, im.Repository+":sha-abc1234")
				if sha.DigestStr() != winners[im.Name] {
					t.Errorf("%s: sha-abc1234 on %s, want the winner's %s untouched", im.Name, sha.DigestStr(), winners[im.Name])
				}
				if tt.wantErr != nil {
					if stable.DigestStr() != bases[im.Name] {
						t.Errorf("%s: stable on %s, want the baseline %s", im.Name, stable.DigestStr(), bases[im.Name])
					}
					continue
				}
				got := out.Images[i]
				if stable.DigestStr() != winners[im.Name] || !got.Reused || got.Published != im.Repository+"@"+winners[im.Name] {
					t.Errorf("%s: stable on %s, published %q reused %v: want the winner's %s, reused", im.Name, stable.DigestStr(), got.Published, got.Reused, winners[im.Name])
				}
			}
		})
	}
}
