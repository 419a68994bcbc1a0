package matrix

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/report"
)

func makeCells(n int) []Cell {
	cells := make([]Cell, n)
	for i := range cells {
		cells[i] = Cell{ID: fmt.Sprintf("c%03d", i), Suite: "s-${i}"}
	}
	return cells
}

func pass(context.Context, Cell, int) (Outcome, error) { return Outcome{}, nil }

// TestRunParallelism: the most cells running at once equals Parallelism.
// Each cell waits (up to a second) until Parallelism cells run together, so
// the maximum is reached if the limiter allows it, and exceeded if it lets
// more through.
func TestRunParallelism(t *testing.T) {
	t.Parallel()
	for _, p := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			t.Parallel()
			var cur, peak atomic.Int32
			full := make(chan struct{})
			var once sync.Once
			fn := func(ctx context.Context, c Cell, _ int) (Outcome, error) {
				n := cur.Add(1)
				defer cur.Add(-1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				if n >= int32(p) {
					once.Do(func() { close(full) })
				}
				select {
				case <-full:
				case <-time.After(time.Second):
				}
				time.Sleep(2 * time.Millisecond) // let others pile up against the limit
				return Outcome{}, nil
			}
			res := Run(context.Background(), makeCells(5*p+2), RunOptions{Parallelism: p}, fn)
			if got := peak.Load(); got != int32(p) {
				t.Errorf("peak concurrency %d, want %d", got, p)
			}
			for _, r := range res {
				if r.Status != report.Pass {
					t.Errorf("%s: %s", r.ID, r.Status)
				}
			}
		})
	}
}

// TestRunFailFast: after a cell fails with fail-fast, every running cell sees
// its context cancelled within 100 ms, no other cell starts, and none passes.
func TestRunFailFast(t *testing.T) {
	t.Parallel()
	const p = 4
	cells := makeCells(20)
	var failedAt atomic.Int64
	var mu sync.Mutex
	seen := map[string]time.Duration{} // cell -> delay from the failure to its cancellation
	started := make(chan struct{}, len(cells))
	fn := func(ctx context.Context, c Cell, _ int) (Outcome, error) {
		started <- struct{}{}
		if c.ID == "c000" {
			// Fail once the other slots are busy.
			for len(started) < p {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(10 * time.Millisecond)
			failedAt.Store(time.Now().UnixNano())
			return Outcome{ExitCode: 1, Log: "boom"}, nil
		}
		select {
		case <-ctx.Done():
			d := time.Duration(time.Now().UnixNano() - failedAt.Load())
			mu.Lock()
			seen[c.ID] = d
			mu.Unlock()
			return Outcome{ExitCode: 137}, ctx.Err()
		case <-time.After(10 * time.Second):
			return Outcome{}, nil
		}
	}
	start := time.Now()
	res := Run(context.Background(), cells, RunOptions{Parallelism: p, FailFast: true, Retries: 2}, fn)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("run took %v: fail-fast did not cancel", d)
	}
	if len(seen) != p-1 {
		t.Errorf("%d running cells saw cancellation, want %d", len(seen), p-1)
	}
	for id, d := range seen {
		if d < 0 || d > 100*time.Millisecond {
			t.Errorf("%s saw cancellation %v after the failure, want < 100ms", id, d)
		}
		t.Logf("%s cancelled %v after the failure", id, d)
	}
	if res[0].Status != report.Fail || res[0].Attempts != 3 {
		t.Errorf("the failing cell: %+v", res[0])
	}
	notStarted := 0
	for _, r := range res[1:] {
		if r.Status != report.Cancelled {
			t.Errorf("%s: status %s, want cancelled", r.ID, r.Status)
		}
		if !strings.Contains(r.Reason, `cancelled: fail-fast after cell "c000" ended fail`) {
			t.Errorf("%s: reason %q", r.ID, r.Reason)
		}
		if r.Attempts == 0 {
			notStarted++
			if !strings.HasSuffix(r.Reason, "(not started)") {
				t.Errorf("%s: reason %q", r.ID, r.Reason)
			}
		}
	}
	if notStarted != len(cells)-p {
		t.Errorf("%d cells not started, want %d", notStarted, len(cells)-p)
	}
}

func TestRunWithoutFailFast(t *testing.T) {
	t.Parallel()
	fn := func(ctx context.Context, c Cell, _ int) (Outcome, error) {
		if c.ID == "c001" {
			return Outcome{ExitCode: 2}, nil
		}
		time.Sleep(time.Millisecond)
		return Outcome{}, ctx.Err()
	}
	res := Run(context.Background(), makeCells(10), RunOptions{Parallelism: 3}, fn)
	for _, r := range res {
		want := report.Pass
		if r.ID == "c001" {
			want = report.Fail
		}
		if r.Status != want {
			t.Errorf("%s: %s, want %s", r.ID, r.Status, want)
		}
	}
}

// script is a CellFunc that plays one behaviour per attempt.
type step func(ctx context.Context) (Outcome, error)

var (
	ok      step = func(context.Context) (Outcome, error) { return Outcome{Log: "ok"}, nil }
	exit1   step = func(context.Context) (Outcome, error) { return Outcome{ExitCode: 1, Log: "FAIL"}, nil }
	caseBad step = func(context.Context) (Outcome, error) {
		return Outcome{Cases: []report.Case{{Name: "a", Status: report.CasePass}, {Name: "b", Status: report.CaseError}}}, nil
	}
	hang step = func(ctx context.Context) (Outcome, error) {
		<-ctx.Done()
		return Outcome{ExitCode: -1}, fmt.Errorf("exec: %w", ctx.Err())
	}
	hangExit step = func(ctx context.Context) (Outcome, error) { <-ctx.Done(); return Outcome{ExitCode: 143}, nil }
	slowOK   step = func(ctx context.Context) (Outcome, error) { <-ctx.Done(); return Outcome{}, nil }
	engine   step = func(context.Context) (Outcome, error) {
		return Outcome{}, errors.New("registry: 503 Service Unavailable")
	}
	boom     step = func(context.Context) (Outcome, error) { panic("nil map") }
	notFound step = func(context.Context) (Outcome, error) {
		return Outcome{ExitCode: 127, Log: "sh: gotestsum: not found"}, nil
	}
	notExec step = func(context.Context) (Outcome, error) {
		return Outcome{ExitCode: 126, Log: "sh: ./run: Permission denied"}, nil
	}
	exit127JU step = func(context.Context) (Outcome, error) {
		return Outcome{ExitCode: 127, Cases: []report.Case{{Name: "a", Status: report.CaseFail}}}, nil
	}
)

func TestRunStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		retries  int
		steps    []step
		status   report.Status
		attempts int
		reason   string
		exit     int
	}{
		{name: "pass", retries: 1, steps: []step{ok}, status: report.Pass, attempts: 1},
		{name: "fail then pass is flaky", retries: 1, steps: []step{exit1, ok}, status: report.Flaky, attempts: 2, reason: "passed on attempt 2 of 2"},
		{name: "fail, fail, pass is flaky", retries: 3, steps: []step{exit1, caseBad, ok}, status: report.Flaky, attempts: 3, reason: "passed on attempt 3 of 4"},
		{name: "fail without retries", steps: []step{exit1}, status: report.Fail, attempts: 1, reason: "attempt 1 failed: exit code 1", exit: 1},
		{name: "fail every retry", retries: 2, steps: []step{exit1, exit1, exit1}, status: report.Fail, attempts: 3, reason: "attempt 3 failed: exit code 1 (all 3 attempts failed)", exit: 1},
		{name: "failing case with exit 0", steps: []step{caseBad}, status: report.Fail, attempts: 1, reason: "1 failing test (exit code 0)"},
		{name: "timeout is retried", retries: 1, steps: []step{hang, hang}, status: report.Timeout, attempts: 2, reason: "attempt 2 timed out after 30ms", exit: -1},
		{name: "timeout with an exit code", steps: []step{hangExit}, status: report.Timeout, attempts: 1, reason: "attempt 1 timed out", exit: 143},
		{name: "timeout then pass is flaky", retries: 1, steps: []step{hang, ok}, status: report.Flaky, attempts: 2},
		{name: "a pass at the deadline counts", steps: []step{slowOK}, status: report.Pass, attempts: 1},
		{name: "fail then timeout", retries: 1, steps: []step{exit1, hang}, status: report.Timeout, attempts: 2, exit: -1},
		{name: "engine error is not retried", retries: 2, steps: []step{engine}, status: report.Error, attempts: 1, reason: "attempt 1: registry: 503 Service Unavailable"},
		{name: "error after a failure", retries: 2, steps: []step{exit1, engine}, status: report.Error, attempts: 2, reason: "attempt 2: registry: 503"},
		{name: "panic is an error", retries: 1, steps: []step{boom}, status: report.Error, attempts: 1, reason: "attempt 1: panic: nil map"},
		{name: "command not found is not retried", retries: 2, steps: []step{notFound}, status: report.Fail, attempts: 1, reason: "exit code 127: the command could not run (not found or not executable); not retried", exit: 127},
		{name: "not executable is not retried", retries: 2, steps: []step{notExec}, status: report.Fail, attempts: 1, reason: "exit code 126: the command could not run", exit: 126},
		{name: "127 with a report is a test failure", retries: 1, steps: []step{exit127JU, ok}, status: report.Flaky, attempts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var attempts []int
			var mu sync.Mutex
			fn := func(ctx context.Context, c Cell, attempt int) (Outcome, error) {
				mu.Lock()
				attempts = append(attempts, attempt)
				mu.Unlock()
				if attempt > len(tt.steps) {
					t.Errorf("attempt %d not scripted", attempt)
					return Outcome{}, nil
				}
				return tt.steps[attempt-1](ctx)
			}
			opts := RunOptions{Parallelism: 2, Retries: tt.retries, Timeout: 30 * time.Millisecond}
			res := Run(context.Background(), makeCells(1), opts, fn)[0]
			if res.Status != tt.status || res.Attempts != tt.attempts || res.ExitCode != tt.exit {
				t.Errorf("got %s after %d attempts, exit %d; want %s after %d, exit %d (%s)",
					res.Status, res.Attempts, res.ExitCode, tt.status, tt.attempts, tt.exit, res.Reason)
			}
			if !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("reason %q, want %q", res.Reason, tt.reason)
			}
			for i, a := range attempts {
				if a != i+1 {
					t.Errorf("attempt numbers %v", attempts)
				}
			}
			if res.ID != "c000" || res.Suite != "s-${i}" {
				t.Errorf("identity lost: %+v", res)
			}
		})
	}
}

func TestRunCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls atomic.Int32
	res := Run(ctx, makeCells(5), RunOptions{Parallelism: 2}, func(context.Context, Cell, int) (Outcome, error) {
		calls.Add(1)
		return Outcome{}, nil
	})
	if calls.Load() != 0 {
		t.Errorf("%d cells ran on a cancelled context", calls.Load())
	}
	for _, r := range res {
		if r.Status != report.Cancelled || r.Attempts != 0 || r.Reason != "cancelled: context canceled (not started)" {
			t.Errorf("%+v", r)
		}
	}

	// Cancelled mid-run: a failing attempt becomes cancelled, not a failure.
	ctx, cancel = context.WithCancel(context.Background())
	res = Run(ctx, makeCells(1), RunOptions{Retries: 3}, func(ctx context.Context, _ Cell, _ int) (Outcome, error) {
		cancel()
		return Outcome{ExitCode: 130, Log: "interrupted"}, nil
	})
	if r := res[0]; r.Status != report.Cancelled || r.Attempts != 1 || r.ExitCode != 130 || r.LogTail != "interrupted" {
		t.Errorf("%+v", r)
	}
}

// TestRunOrderAndClock: results come back in cell order whatever the finish
// order, durations come from the injected clock, and logs are bounded.
func TestRunOrderAndClock(t *testing.T) {
	t.Parallel()
	var ticks atomic.Int64
	clock := func() time.Time { return time.Unix(0, 0).Add(time.Duration(ticks.Add(1)) * time.Second) }
	big := strings.Repeat("x", 1<<20)
	cells := makeCells(30)
	res := Run(context.Background(), cells, RunOptions{Parallelism: 6, Now: clock}, func(_ context.Context, c Cell, _ int) (Outcome, error) {
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		return Outcome{Log: big}, nil
	})
	for i, r := range res {
		if r.ID != cells[i].ID {
			t.Fatalf("result %d is %s", i, r.ID)
		}
		if r.Duration.Std() <= 0 || r.Duration.Std()%time.Second != 0 {
			t.Errorf("%s: duration %v not from the clock", r.ID, r.Duration.Std())
		}
		if len(r.LogTail) > report.MaxLogTail+64 || !strings.HasSuffix(r.LogTail, "xxx") {
			t.Errorf("%s: log tail of %d bytes", r.ID, len(r.LogTail))
		}
	}
	red := Run(context.Background(), makeCells(1), RunOptions{Redact: report.NewRedactor("s3cr3t").Func()},
		func(context.Context, Cell, int) (Outcome, error) {
			return Outcome{ExitCode: 1, Log: "login -p s3cr3t failed"}, errors.New("push with s3cr3t: denied")
		})
	if r := red[0]; r.LogTail != "login -p *** failed" || r.Reason != "attempt 1: push with ***: denied" {
		t.Errorf("not redacted: %+v", r)
	}
	if got := Run(context.Background(), nil, RunOptions{}, pass); len(got) != 0 {
		t.Errorf("no cells: %v", got)
	}
}

// BenchmarkRunOverhead measures what Run itself costs per cell: 1,000 no-op
// cells at parallelism 8, against a naive peer timed in the same loop (a
// goroutine per cell, a semaphore channel, a WaitGroup, results in a slice).
// "timeout" gives each attempt a deadline as the module does (a timer per
// attempt); "no-timeout" shows the cost without it.
func BenchmarkRunOverhead(b *testing.B) {
	const n, p = 1000, 8
	cells := makeCells(n)
	for _, bc := range []struct {
		name    string
		timeout time.Duration
	}{{"timeout", 20 * time.Minute}, {"no-timeout", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := RunOptions{Parallelism: p, Timeout: bc.timeout, Retries: 1}
			var ours, naive time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				res := Run(context.Background(), cells, opts, pass)
				t1 := time.Now()
				naiveRun(cells, p)
				t2 := time.Now()
				ours += t1.Sub(t0)
				naive += t2.Sub(t1)
				if res[n-1].Status != report.Pass {
					b.Fatal(res[n-1])
				}
			}
			runs := float64(b.N) * n
			b.ReportMetric(float64(ours.Nanoseconds())/runs, "ns/cell")
			b.ReportMetric(float64(naive.Nanoseconds())/runs, "naive-ns/cell")
			b.ReportMetric(float64(ours)/float64(naive), "x-naive")
		})
	}
}

func naiveRun(cells []Cell, p int) []report.CellResult {
	out := make([]report.CellResult, len(cells))
	sem := make(chan struct{}, p)
	var wg sync.WaitGroup
	for i, c := range cells {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			o, err := pass(context.Background(), c, 1)
			st := report.Pass
			if err != nil || o.Failed() {
				st = report.Fail
			}
			out[i] = report.CellResult{ID: c.ID, Status: st, Attempts: 1}
		}()
	}
	wg.Wait()
	return out
}
