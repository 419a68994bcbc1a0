package flow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
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

var (
	playwright = "mcr.microsoft.com/playwright@sha256:" + strings.Repeat("c", 64)
	postgres   = "docker.io/library/postgres@sha256:" + strings.Repeat("d", 64)
)

// serviceConfig is the web app setup of the issue: the app from the image
// under test (port 8080, GET /health), a database sidecar, and Playwright
// in a pinned runner, 2 shards x 2 browsers.
func serviceConfig(image string) *config.Config {
	cfg := config.Default()
	cfg.Image = image
	cfg.Test.Retries = 0
	cfg.Test.Matrix = config.Matrix{{Name: "shard", Values: []string{"1", "2"}}, {Name: "browser", Values: []string{"chromium", "firefox"}}}
	cfg.Test.Suites = []config.Suite{{
		Name:    "e2e-${shard}-${browser}",
		Run:     config.Command{Shell: "npx playwright test --project=${browser} --shard=${shard}/2"},
		Reports: []string{"/out/junit.xml"},
		Runner:  config.Runner{Ref: playwright},
		Services: []config.Service{
			{Name: "app", Image: config.AppImage, Ports: []int{8080}, Env: map[string]string{"ENVIRONMENT": "test", "DB_PATH": "/data/app.db", "SHARD": "${shard}"},
				Health: config.Health{HTTP: "/health"}},
			{Name: "db", Ref: postgres, Env: map[string]string{"POSTGRES_PASSWORD": "test"}, Health: config.Health{Exec: []string{"pg_isready", "-h", "db"}}, Timeout: config.Duration(90 * time.Second)},
		},
	}}
	return &cfg
}

// TestExecIn: the runner and sidecars are the suite's, the app service is
// the target under test, and a candidate's exec differs from the
// baseline's in that image only.
func TestExecIn(t *testing.T) {
	t.Parallel()
	plan, err := runplan.New(serviceConfig(""), gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	c := plan.Cells[3] // e2e-2-firefox
	base := Target{Role: Baseline, Ref: "r@sha256:" + strings.Repeat("b", 64)}
	cand, bx := ExecIn(c, Target{Role: Candidate}, 1), ExecIn(c, base, 1)
	if cand.Runner != (Runner{Ref: playwright}) || len(cand.Services) != 2 {
		t.Fatalf("runner %+v services %+v", cand.Runner, cand.Services)
	}
	app, db := cand.Services[0], cand.Services[1]
	want := Service{Name: "app", Image: Target{Role: Candidate}, Ports: []int{8080}, HTTP: "/health", HTTPPort: 8080, Timeout: config.DefaultServiceTimeout,
		Env: []string{"DB_PATH=/data/app.db", "ENVIRONMENT=test", "SHARD=2", "SLIPWAY_ATTEMPT=1", "SLIPWAY_CELL=e2e-2-firefox", "SLIPWAY_ROLE=candidate"}}
	if !reflect.DeepEqual(app, want) {
		t.Errorf("app %+v\nwant %+v", app, want)
	}
	if db.Image != (Target{Role: Sidecar, Ref: postgres}) || !slices.Equal(db.Exec, []string{"pg_isready", "-h", "db"}) || db.Timeout != 90*time.Second || db.ImageHealthcheck {
		t.Errorf("db %+v", db)
	}
	if bx.Services[0].Image != base {
		t.Errorf("baseline app runs %+v, want the baseline", bx.Services[0].Image)
	}
	// The baseline's services are other instances than the candidate's,
	// the pinned sidecar too: the engine shares identical services, and
	// one side stopping its own would stop the other's.
	for i := range bx.Services {
		if slices.Equal(bx.Services[i].Env, cand.Services[i].Env) || !slices.Contains(bx.Services[i].Env, "SLIPWAY_ROLE=baseline") {
			t.Errorf("service %s: baseline env %v, candidate env %v: want them told apart by SLIPWAY_ROLE", bx.Services[i].Name, bx.Services[i].Env, cand.Services[i].Env)
		}
		bx.Services[i].Env = cand.Services[i].Env
	}
	bx.Services[0].Image = cand.Services[0].Image
	if !reflect.DeepEqual(cand, bx) {
		t.Errorf("candidate and baseline execs differ beyond the image under test and the services' role:\n%+v\n%+v", cand, bx)
	}
	unit := matrix.Cell{ID: "unit", Run: config.Command{Args: []string{"go", "test"}}}
	if plain := ExecIn(unit, Target{Role: Candidate}, 2); !plain.Runner.IsZero() || plain.Services != nil || !reflect.DeepEqual(plain, ExecFor(unit, 2)) {
		t.Errorf("a suite without runner or services: %+v", plain)
	}
}

// TestImageHealthcheck: the image's own HEALTHCHECK decides when a service
// has started only when the service has no health check of its own.
func TestImageHealthcheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		health config.Health
		want   bool
	}{
		{"health.http replaces it", config.Health{HTTP: "/health"}, false},
		{"health.exec replaces it", config.Health{Exec: []string{"pg_isready"}}, false},
		{"no health: the image's decides", config.Health{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := serviceConfig("")
			cfg.Test.Suites[0].Services[0].Health = tt.health
			plan, err := runplan.New(cfg, gitctx.Context{Revision: rev}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := ExecIn(plan.Cells[0], Target{Role: Candidate}, 1).Services[0].ImageHealthcheck; got != tt.want {
				t.Errorf("ImageHealthcheck = %v, want %v", got, tt.want)
			}
		})
	}
	err := ImageHealthcheckError(Service{Name: "app"}, []string{"/bin/sh", "-c", "test -f /tmp/ready"}, errors.New("exit 1"))
	for _, want := range []string{"service app never became healthy", "the image's HEALTHCHECK (/bin/sh -c test -f /tmp/ready) did not pass", "health.http or health.exec"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestWaitHealthy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		okAfter  int // probes failing before one passes; -1 never
		timeout  time.Duration
		wantErr  bool
		wantLog  string
		maxTaken time.Duration
	}{
		{name: "healthy at once", okAfter: 0, timeout: time.Second, maxTaken: 500 * time.Millisecond},
		{name: "healthy on the third probe", okAfter: 2, timeout: 5 * time.Second, maxTaken: time.Second},
		{name: "never healthy: an error with what the last probe saw", okAfter: -1, timeout: 300 * time.Millisecond, wantErr: true, wantLog: "503 starting", maxTaken: time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			probe := func(ctx context.Context) (string, error) {
				i := int(n.Add(1)) - 1
				if tt.okAfter >= 0 && i >= tt.okAfter {
					return "200 OK", nil
				}
				return fmt.Sprintf("probe %d: 503 starting", i), errors.New("503")
			}
			start := time.Now()
			err := WaitHealthy(context.Background(), Service{Name: "app", Timeout: tt.timeout}, 20*time.Millisecond, probe)
			if took := time.Since(start); took > tt.maxTaken {
				t.Errorf("took %s", took)
			}
			var ue *UnhealthyError
			if got := errors.As(err, &ue); got != tt.wantErr {
				t.Fatalf("error %v, want unhealthy: %v", err, tt.wantErr)
			}
			if tt.wantErr && (ue.Service != "app" || !strings.Contains(ue.Log, tt.wantLog) || !strings.Contains(err.Error(), "service app never became healthy")) {
				t.Errorf("error %v log %q", err, ue.Log)
			}
			if !tt.wantErr && int(n.Load()) != tt.okAfter+1 {
				t.Errorf("%d probes, want %d", n.Load(), tt.okAfter+1)
			}
		})
	}
}

func TestHTTPProbe(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "migrating the database")
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	probe := HTTPProbe(srv.Client(), srv.URL+"/health")
	seen, err := probe(context.Background())
	if err == nil || !strings.Contains(seen, "503") || !strings.Contains(seen, "migrating the database") {
		t.Errorf("not ready: %q %v", seen, err)
	}
	ready.Store(true)
	if seen, err := probe(context.Background()); err != nil || !strings.Contains(seen, "200") {
		t.Errorf("ready: %q %v", seen, err)
	}
	if _, err := HTTPProbe(srv.Client(), "http://127.0.0.1:1/health")(context.Background()); err == nil {
		t.Error("a closed port is healthy")
	}
}

// TestServicePromotion runs the web app setup through Promote with the
// fake engine: a pass promotes, a regression blocks, and an app that never
// gets healthy is an error in every candidate cell (its log in the tail),
// never a test failure and never a pass.
func TestServicePromotion(t *testing.T) {
	t.Parallel()
	pass, regress := map[string]bool{"login": true, "checkout": true}, map[string]bool{"login": true, "checkout": false}
	for _, tt := range []struct {
		name      string
		candidate map[string]bool
		unhealthy bool
		wantErr   error
		status    report.Status
		moved     bool
	}{
		{name: "equal to the baseline: promoted", candidate: pass, status: report.Pass, moved: true},
		{name: "a regression blocks", candidate: regress, wantErr: ErrGateBlocked, status: report.Fail},
		{name: "an unhealthy app is an error", candidate: pass, unhealthy: true, wantErr: ErrGateBlocked, status: report.Error},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t)
			repo := reg.Ref("acme/web")
			base := registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{})
			cfg := serviceConfig(repo)
			plan, err := runplan.New(cfg, gitctx.Context{Revision: rev}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			eng := &testEngine{t: t, results: func(role, cell string, attempt int) (ExecResult, error) {
				cases := pass
				if role == Candidate {
					cases = tt.candidate
					if tt.unhealthy {
						return ExecResult{}, &UnhealthyError{Service: "app", Err: errors.New("after 30 checks in 1m0s: GET http://app:8080/health: 500"), Log: "panic: DB_PATH /data/app.db: read-only file system"}
					}
				}
				code := 0
				if !cases["checkout"] {
					code = 1
				}
				return ExecResult{ExitCode: code, Files: map[string]string{"/out/junit.xml": junit(cases)}}, nil
			}}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Now: time.Now()})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Promote() error = %v, want %v", err, tt.wantErr)
			}
			for _, c := range out.Candidate.Cells {
				if c.Status != tt.status {
					t.Errorf("candidate %s: %s (%s), want %s", c.ID, c.Status, c.Reason, tt.status)
				}
				if tt.unhealthy && (!strings.Contains(c.Reason, "service app never became healthy") || !strings.Contains(c.LogTail, "read-only file system")) {
					t.Errorf("unhealthy cell %s: reason %q log %q", c.ID, c.Reason, c.LogTail)
				}
			}
			// Every exec ran in the runner with the database sidecar; the
			// app was the image each role tests.
			for _, cl := range eng.calls {
				if cl.x.Runner.Ref != playwright || len(cl.x.Services) != 2 || cl.x.Services[1].Image.Ref != postgres {
					t.Errorf("%s exec: runner %+v services %+v", cl.t.Role, cl.x.Runner, cl.x.Services)
				}
				if cl.x.Services[0].Image != cl.t {
					t.Errorf("%s exec: app runs %+v", cl.t.Role, cl.x.Services[0].Image)
				}
			}
			if len(eng.calls) != 8 {
				t.Errorf("%d execs, want 4 cells x candidate and baseline", len(eng.calls))
			}
			stable, _ := registrytest.Head(t, repo+":stable")
			if moved := stable.DigestStr() != base.DigestStr(); moved != tt.moved {
				t.Errorf("stable moved %v, want %v", moved, tt.moved)
			}
		})
	}
}
