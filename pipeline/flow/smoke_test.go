package flow

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
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

// runLocal runs an exec as a process of this machine, the way the engine
// runs it in a container: the exit code is a result, and a command still
// running at the end of its Window is stopped and reported Running.
func runLocal(ctx context.Context, x Exec) (ExecResult, error) {
	if x.Window > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, x.Window)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, x.Argv[0], x.Argv[1:]...)
	cmd.Env = append(os.Environ(), x.Env...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case x.Window > 0 && ctx.Err() != nil:
		return ExecResult{Output: string(out), Running: true}, nil
	case errors.As(err, &ee):
		return ExecResult{ExitCode: ee.ExitCode(), Output: string(out)}, nil
	case err != nil:
		return ExecResult{}, err
	}
	return ExecResult{Output: string(out)}, nil
}

// TestSmokeScript runs the smoke supervisor with this machine's /bin/sh on
// real commands: each rule of config.Smoke, as the engine would see it.
func TestSmokeScript(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	cell := matrix.SmokeCell(config.Smoke{Mode: config.SmokeAuto, Duration: config.Duration(time.Second)})
	for _, tt := range []struct {
		name    string
		cmd     []string
		health  *Healthcheck
		code    int
		wantLog []string
		max     time.Duration
	}{
		{"a command that exits 0 passes", []string{"true"}, nil, 0, []string{"the command exited with code 0"}, 3 * time.Second},
		{"a crash fails with its log", []string{"sh", "-c", "echo 'panic: bad config' >&2; exit 3"}, nil, 3, []string{"panic: bad config", "exited with code 3"}, 3 * time.Second},
		{"a server still running passes", []string{"sleep", "30"}, nil, 0, []string{"still running after 1s"}, 5 * time.Second},
		{"a healthy server passes at once", []string{"sleep", "30"}, &Healthcheck{Args: []string{"test -d /"}, Shell: true}, 0, []string{"the HEALTHCHECK passed after 0s"}, 3 * time.Second},
		{"an exec-form HEALTHCHECK is quoted", []string{"sleep", "30"}, &Healthcheck{Args: []string{"sh", "-c", "test -n 'it''s up'"}}, 0, []string{"the HEALTHCHECK passed"}, 3 * time.Second},
		{"a server that never gets healthy fails", []string{"sleep", "30"}, &Healthcheck{Args: []string{"false"}}, 1, []string{"the HEALTHCHECK never passed"}, 5 * time.Second},
		{"a crash before healthy fails", []string{"sh", "-c", "exit 2"}, &Healthcheck{Args: []string{"false"}}, 2, []string{"exited with code 2"}, 3 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x, err := SmokeExec(cell, 1, ImageConfig{Cmd: tt.cmd, Health: tt.health, Shell: true})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r, err := runLocal(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > tt.max {
				t.Errorf("took %s, want at most %s", took, tt.max)
			}
			if r.ExitCode != tt.code {
				t.Errorf("exit %d, want %d; output:\n%s", r.ExitCode, tt.code, r.Output)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(r.Output, w) {
					t.Errorf("output lacks %q:\n%s", w, r.Output)
				}
			}
		})
	}
}

func TestSmokeExec(t *testing.T) {
	t.Parallel()
	cell := matrix.SmokeCell(config.Smoke{Mode: config.SmokeAuto, Duration: config.Duration(2500 * time.Millisecond)})
	for _, tt := range []struct {
		name       string
		img        ImageConfig
		wantErr    error
		wantArgv   []string // the image's command, at the end of argv
		wantShell  bool
		wantSecs   string
		wantHealth string
		wantWindow time.Duration
	}{
		{name: "entrypoint and command under the supervisor", img: ImageConfig{Entrypoint: []string{"/bin/app"}, Cmd: []string{"serve", "--port", "8080"}, Shell: true},
			wantArgv: []string{"/bin/app", "serve", "--port", "8080"}, wantShell: true, wantSecs: "3"},
		{name: "a shell-form HEALTHCHECK as written", img: ImageConfig{Cmd: []string{"nginx"}, Health: &Healthcheck{Args: []string{"curl -f http://localhost/ || exit 1"}, Shell: true}, Shell: true},
			wantArgv: []string{"nginx"}, wantShell: true, wantSecs: "3", wantHealth: "curl -f http://localhost/ || exit 1"},
		{name: "an exec-form HEALTHCHECK quoted", img: ImageConfig{Cmd: []string{"nginx"}, Health: &Healthcheck{Args: []string{"/probe", "it's"}}, Shell: true},
			wantArgv: []string{"nginx"}, wantShell: true, wantSecs: "3", wantHealth: `'/probe' 'it'\''s'`},
		{name: "no shell: the command itself, within a window", img: ImageConfig{Entrypoint: []string{"/server"}},
			wantArgv: []string{"/server"}, wantWindow: 2500 * time.Millisecond},
		{name: "nothing to start", img: ImageConfig{Shell: true}, wantErr: ErrNothingToStart},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x, err := SmokeExec(cell, 2, tt.img)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !slices.Equal(x.Argv[len(x.Argv)-len(tt.wantArgv):], tt.wantArgv) {
				t.Errorf("argv %q does not end with %q", x.Argv, tt.wantArgv)
			}
			if shell := x.Argv[0] == "/bin/sh"; shell != tt.wantShell {
				t.Errorf("argv %q: supervised %v, want %v", x.Argv, shell, tt.wantShell)
			}
			if tt.wantShell && (x.Argv[4] != tt.wantSecs || x.Argv[5] != tt.wantHealth) {
				t.Errorf("supervisor args %q %q, want %q %q", x.Argv[4], x.Argv[5], tt.wantSecs, tt.wantHealth)
			}
			if x.Window != tt.wantWindow {
				t.Errorf("window %s, want %s", x.Window, tt.wantWindow)
			}
			if !slices.Contains(x.Env, "SLIPWAY_ATTEMPT=2") || len(x.Reports) != 0 {
				t.Errorf("env %q reports %q: want the attempt and no report", x.Env, x.Reports)
			}
		})
	}
}

// TestZeroConfigPromotion: a config with no suite (an empty slipway.yaml
// and an image) promotes on the smoke check, whose commands the fake engine
// runs on this machine; a candidate that crashes at start is blocked with
// its log, one with nothing to start is an error, and the report says that
// smoke is all that was tested.
func TestZeroConfigPromotion(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	server := ImageConfig{Cmd: []string{"sleep", "30"}, Shell: true}
	for _, tt := range []struct {
		name       string
		candidate  ImageConfig
		inspectErr error
		wantErr    error
		status     report.Status
		reason     string
	}{
		{name: "a server that starts is promoted", candidate: server, status: report.Pass},
		{name: "a distroless server that starts is promoted", candidate: ImageConfig{Entrypoint: []string{"sleep", "30"}}, status: report.Pass},
		{name: "a runtime bump that fails at start is blocked", candidate: ImageConfig{Cmd: []string{"sh", "-c", "echo 'error while loading shared libraries: libssl.so.3' >&2; exit 127"}, Shell: true},
			wantErr: ErrGateBlocked, status: report.Fail, reason: "libssl.so.3"},
		{name: "an image with nothing to start is an error", candidate: ImageConfig{Shell: true}, wantErr: ErrGateBlocked, status: report.Error, reason: "no ENTRYPOINT and no CMD"},
		{name: "an unreadable image config is an error", inspectErr: errors.New("engine: gone"), wantErr: ErrGateBlocked, status: report.Error, reason: "reading the image's config: engine: gone"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t)
			repo := reg.Ref("acme/app")
			base := registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{})
			cfg := config.Default()
			cfg.Image = repo
			cfg.Smoke.Duration = config.Duration(time.Second)
			cfg.Test.Retries = 0
			plan, err := runplan.New(&cfg, gitctx.Context{Revision: rev}, time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Cells) != 1 || plan.Cells[0].ID != config.SmokeCell {
				t.Fatalf("cells %+v, want the smoke check alone", plan.Cells)
			}
			eng := &testEngine{t: t, images: func(role string) (ImageConfig, error) {
				if role == Baseline {
					return server, nil
				}
				return tt.candidate, tt.inspectErr
			}}
			eng.run = runLocal
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			out, err := Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Now: time.Now()})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Promote() error = %v, want %v", err, tt.wantErr)
			}
			c := out.Candidate.Cells[0]
			if c.Status != tt.status || !c.Smoke || !strings.Contains(c.Reason+c.LogTail, tt.reason) {
				t.Errorf("smoke cell %s (smoke %v): %q / %q, want %s with %q", c.Status, c.Smoke, c.Reason, c.LogTail, tt.status, tt.reason)
			}
			if out.Baseline == nil || out.Baseline.Cells[0].Status != report.Pass {
				t.Errorf("baseline %+v, want its smoke check passed", out.Baseline)
			}
			stable, _ := registrytest.Head(t, repo+":stable")
			if moved := stable.DigestStr() != base.DigestStr(); moved != (tt.wantErr == nil) {
				t.Errorf("stable moved: %v, want %v", moved, tt.wantErr == nil)
			}
			if md := out.Markdown(); !strings.Contains(md, report.SmokeNote) {
				t.Errorf("the summary does not say smoke is all that was tested:\n%s", md)
			}
		})
	}
}
