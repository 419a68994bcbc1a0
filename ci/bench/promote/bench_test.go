// Package promotebench compares `slipway promote` with `crane copy` on one
// local registry: a large multi-layer image promoted between two
// repositories, each run through its own byte-counting proxy. Run it with
// run.sh; plain `go test ./...` skips it.
package promotebench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

func envInt(t *testing.T, key string, def, least int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		t.Fatalf("%s=%q: want an integer ≥ %d", key, v, least)
	}
	return n
}

type sample struct {
	wall     time.Duration
	sent     int64 // bytes from the tool to the registry: request lines, headers, bodies
	sentBody int64
	requests int64
	toolCPU  time.Duration // user + system
	regCPU   time.Duration // the registry's, while the tool ran (10 ms ticks)
}

// cpuOf is a process's user + system CPU time so far, from /proc (Linux's
// 100 ticks a second).
func cpuOf(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// TestPromoteBenchmark is the benchmark (a test, so it can start the
// registry harness): SLIPWAY_BENCH=1 runs it.
func TestPromoteBenchmark(t *testing.T) {
	if os.Getenv("SLIPWAY_BENCH") != "1" {
		t.Skip("set SLIPWAY_BENCH=1 (ci/bench/promote/run.sh does)")
	}
	sizeMB := envInt(t, "BENCH_SIZE_MB", 200, 1)
	layers := envInt(t, "BENCH_LAYERS", 5, 1)
	rounds := envInt(t, "BENCH_ROUNDS", 5, 1)
	slipway, crane := os.Getenv("SLIPWAY_BIN"), os.Getenv("CRANE_BIN")
	if slipway == "" || crane == "" {
		t.Fatal("SLIPWAY_BIN and CRANE_BIN must name the binaries")
	}

	reg := registrytest.New(t)
	if !reg.Real() {
		t.Fatal("the benchmark needs the real docker-registry (cross-repository mounts)")
	}
	per := int64(sizeMB) << 20 / int64(layers)
	t.Logf("pushing a %d MiB image of %d layers of %d bytes", sizeMB, layers, per)
	src := registrytest.PushImage(t, reg.Ref("src/app:bench"), registrytest.ImageSpec{Layers: layers, LayerSize: per, Raw: true})
	img, err := remote.Image(src)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	var size int64
	for _, l := range m.Layers {
		size += l.Size
	}
	size += m.Config.Size

	// BENCH_RTT_MS: a hosted registry's round trip, added by the proxy to
	// every request (0, the default: loopback).
	var rules []*registrytest.Rule
	rtt := time.Duration(envInt(t, "BENCH_RTT_MS", 0, 0)) * time.Millisecond
	if rtt > 0 {
		rules = append(rules, &registrytest.Rule{Fault: registrytest.Latency, Delay: rtt})
	}
	run := func(tool string, round int) sample {
		p := registrytest.NewFaultProxy(t, reg.Host(), 0, rules...)
		from := p.Host() + "/src/app@" + src.DigestStr()
		var cmd *exec.Cmd
		switch tool {
		case "slipway":
			cmd = exec.Command(slipway, "promote", from, "--to", fmt.Sprintf("%s/dst-slipway-%d/app", p.Host(), round), "--tag", "bench")
		case "crane":
			cmd = exec.Command(crane, "copy", from, fmt.Sprintf("%s/dst-crane-%d/app:bench", p.Host(), round))
		}
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no Docker config either way
		reg0 := cpuOf(t, reg.Pid())
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		regCPU := cpuOf(t, reg.Pid()) - reg0
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
		}
		s := p.Stats()
		if os.Getenv("BENCH_TRACE") != "" && round == 0 {
			var b strings.Builder
			for _, r := range p.Log() {
				fmt.Fprintf(&b, "%6.1f-%6.1fms %s %s %d\n", float64(r.Start.Sub(start).Microseconds())/1000, float64(r.Time.Sub(start).Microseconds())/1000, r.Method, r.Path, r.Status)
			}
			t.Logf("%s trace:\n%s", tool, b.String())
		}
		return sample{wall: wall, sent: s.BytesIn, sentBody: s.BodyIn, requests: s.Requests,
			toolCPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), regCPU: regCPU}
	}

	var slip, cr []sample
	for r := range rounds {
		// Alternate who goes first, so neither always gets the warm cache.
		if r%2 == 0 {
			slip, cr = append(slip, run("slipway", r)), append(cr, run("crane", r))
		} else {
			cr, slip = append(cr, run("crane", r)), append(slip, run("slipway", r))
		}
	}
	// Promoted images are whole: a full verify of one of them.
	if out, err := exec.Command(slipway, "verify", "--full", reg.Ref("dst-slipway-0/app:bench")).CombinedOutput(); err != nil {
		t.Fatalf("verify --full of the promoted image: %v\n%s", err, out)
	}

	med := func(ss []sample) sample {
		pick := func(f func(sample) int64) int64 {
			v := make([]int64, len(ss))
			for i, s := range ss {
				v[i] = f(s)
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		return sample{
			wall:     time.Duration(pick(func(s sample) int64 { return int64(s.wall) })),
			sent:     pick(func(s sample) int64 { return s.sent }),
			sentBody: pick(func(s sample) int64 { return s.sentBody }),
			requests: pick(func(s sample) int64 { return s.requests }),
			// CPU in 10 ms ticks: the mean, not the median.
			toolCPU: mean(ss, func(s sample) time.Duration { return s.toolCPU }),
			regCPU:  mean(ss, func(s sample) time.Duration { return s.regCPU }),
		}
	}
	ms, mc := med(slip), med(cr)
	var b strings.Builder
	fmt.Fprintf(&b, "image: %d layers, %d bytes (%.1f MiB), digest %s\n", layers, size, float64(size)/(1<<20), src.DigestStr())
	fmt.Fprintf(&b, "rounds: %d, medians; registry: %s (distribution 2.8), same run; added round trip: %v\n", rounds, registrytest.DefaultBinary, rtt)
	fmt.Fprintf(&b, "%-8s %12s %12s %10s %9s %10s %9s %12s\n", "tool", "wall", "bytes sent", "body sent", "requests", "% of image", "tool CPU", "registry CPU")
	for _, row := range []struct {
		name string
		s    sample
	}{{"slipway", ms}, {"crane", mc}} {
		fmt.Fprintf(&b, "%-8s %12s %12d %10d %9d %9.4f%% %9s %12s\n", row.name, row.s.wall.Round(time.Millisecond), row.s.sent, row.s.sentBody, row.s.requests, 100*float64(row.s.sent)/float64(size), row.s.toolCPU.Round(time.Millisecond), row.s.regCPU.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "wall time, slipway / crane: %.2f\n", float64(ms.wall)/float64(mc.wall))
	fmt.Fprintf(&b, "all slipway walls: %v\nall crane walls:   %v\n", walls(slip), walls(cr))
	t.Log("\n" + b.String())
	if dir := os.Getenv("BENCH_OUT"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "result.txt"), []byte(b.String()), 0o644)
	}
	if pct := 100 * float64(ms.sent) / float64(size); pct > 1 {
		t.Errorf("slipway sent %.3f%% of the image's bytes, target ≤ 1%%", pct)
	}
	if ms.wall > mc.wall {
		t.Logf("NOTE: slipway's median wall time %v is above crane's %v", ms.wall, mc.wall)
	}
}

func mean(ss []sample, f func(sample) time.Duration) time.Duration {
	var sum time.Duration
	for _, s := range ss {
		sum += f(s)
	}
	return sum / time.Duration(len(ss))
}

func walls(ss []sample) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.wall.Round(time.Millisecond).String())
	}
	return out
}
