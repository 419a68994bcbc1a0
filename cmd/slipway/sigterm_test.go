package main

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

const mainArgsEnv = "SLIPWAY_TEST_MAIN_ARGS"

// TestSlipwayProcess is not a test: with mainArgsEnv set (arguments
// separated by \x1f) it runs the CLI's main, signals included.
func TestSlipwayProcess(t *testing.T) {
	args := os.Getenv(mainArgsEnv)
	if args == "" {
		t.Skip("the slipway process of TestSIGTERM")
	}
	os.Args = append([]string{"slipway"}, strings.Split(args, "\x1f")...)
	main()
}

// TestSIGTERM: a verb stuck on a slow registry stops on SIGTERM with exit
// code 3, having written nothing half-done (the floating tag did not
// move; the prune deleted nothing).
func TestSIGTERM(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	base := registrytest.PushImage(t, reg.Ref("ci/app:base"), registrytest.ImageSpec{})
	cand := registrytest.PushImage(t, reg.Ref("ci/app:cand"), registrytest.ImageSpec{Layers: 3})
	if code, _, stderr := slipway(t, nil, "promote", base.String(), "--to", reg.Ref("prod/app"), "--floating", "stable", "--expect", "none"); code != 0 {
		t.Fatalf("promoting the baseline: %s", stderr)
	}
	old := map[string]string{"org.opencontainers.image.created": time.Now().Add(-240 * time.Hour).UTC().Format(time.RFC3339)}
	for _, tag := range []string{"pr-1-abcdef0", "pr-2-abcdef0"} {
		registrytest.PushImage(t, reg.Ref("old/app:"+tag), registrytest.ImageSpec{Labels: old})
	}
	cfg := t.TempDir() + "/slipway.yaml"
	if err := os.WriteFile(cfg, []byte("retention:\n  minAge: 1h\n  rules: [{name: prs, class: pr, olderThan: 24h}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		// stuck is the request the registry holds (5s) when SIGTERM comes.
		stuck *registrytest.Rule
		args  func(host string) []string
	}{
		{"promote", &registrytest.Rule{Method: http.MethodPost, Path: `/blobs/uploads/`, Fault: registrytest.Latency, Delay: 5 * time.Second},
			func(host string) []string {
				return []string{"promote", host + "/ci/app@" + cand.DigestStr(), "--to", host + "/prod/app", "--floating", "stable", "--expect", base.DigestStr()}
			}},
		{"prune", &registrytest.Rule{Method: http.MethodDelete, Fault: registrytest.Latency, Delay: 5 * time.Second},
			func(host string) []string { return []string{"prune", host + "/old/app", "--config", cfg, "--confirm"} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := registrytest.NewFaultProxy(t, reg.Host(), 1, tt.stuck)
			cmd := exec.Command(os.Args[0], "-test.run=^TestSlipwayProcess$")
			cmd.Env = append(os.Environ(), mainArgsEnv+"="+strings.Join(tt.args(proxy.Host()), "\x1f"), "HOME="+t.TempDir())
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			for tt.stuck.Injected() == 0 {
				select {
				case err := <-exited:
					t.Fatalf("exited before the registry held a request: %v\n%s", err, out.String())
				case <-time.After(10 * time.Millisecond):
				}
			}
			cmd.Process.Signal(syscall.SIGTERM)
			sent := time.Now()
			var err error
			select {
			case err = <-exited:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 20s after SIGTERM\n%s", out.String())
			}
			t.Logf("%s exited %v after SIGTERM", tt.name, time.Since(sent).Round(time.Millisecond))
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInfra {
				t.Errorf("exit %v, want %d\n%s", err, exitInfra, out.String())
			}
			if d, _ := registrytest.Head(t, reg.Ref("prod/app:stable")); d.DigestStr() != base.DigestStr() {
				t.Errorf("stable points at %s, want the baseline", d.DigestStr())
			}
			for _, tag := range []string{"base", "cand"} {
				if _, ok := registrytest.Head(t, reg.Ref("ci/app:"+tag)); !ok {
					t.Errorf("ci/app:%s is gone", tag)
				}
			}
		})
	}
}
