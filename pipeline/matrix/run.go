package matrix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// Outcome is what running a cell once produced. The attempt passes when
// ExitCode is 0 and no case failed or errored.
type Outcome struct {
	ExitCode int
	// Log is the attempt's output; the runner keeps its last
	// report.MaxLogTail bytes.
	Log string
	// Cases read from the cell's JUnit files (report.ParseJUnit).
	Cases []report.Case
}

// Failed reports whether the attempt failed.
func (o Outcome) Failed() bool {
	return o.ExitCode != 0 || slices.ContainsFunc(o.Cases, func(c report.Case) bool { return c.Status.Failed() })
}

// CellFunc runs cell c once. attempt counts from 1; an implementation backed
// by cached execs must let it change an input (e.g. SLIPWAY_ATTEMPT=2), or a
// retry returns the cached failure. It must return promptly once ctx is done.
// An error means the attempt could not run (engine, registry): the cell gets
// status error, is not retried, and never passes a gate. A test failure is an
// Outcome, not an error.
type CellFunc func(ctx context.Context, c Cell, attempt int) (Outcome, error)

// RunOptions tune Run. The zero value runs one cell at a time, once, with no
// timeout.
type RunOptions struct {
	// Parallelism is how many cells run at once; less than 1 means 1.
	Parallelism int
	// Timeout bounds each attempt; 0 means none.
	Timeout time.Duration
	// Retries: attempts after a failed or timed-out one; negative means 0.
	Retries int
	// FailFast cancels every other cell once a cell ends without passing
	// (after its retries).
	FailFast bool
	// Now is the clock for durations; nil means time.Now.
	Now func() time.Time
	// Redact, when set, is applied to every log tail and reason a result
	// keeps (e.g. report.NewRedactor(token).Func()).
	Redact func(string) string
}

// OptionsFrom returns the RunOptions of a config's test section.
func OptionsFrom(t config.Test) RunOptions {
	return RunOptions{Parallelism: t.Parallelism, Timeout: t.Timeout.Std(), Retries: t.Retries, FailFast: t.FailFast}
}

// Run runs cells with fn, at most opts.Parallelism at once (errgroup with
// SetLimit), and returns one result per cell in cells' order.
//
// Per cell: attempt 1, then up to opts.Retries more while the attempt fails
// or times out. Status: pass (first attempt passed), flaky (a retry passed),
// fail (every attempt failed), timeout (the last attempt ran past
// opts.Timeout), error (fn returned an error or panicked; no retry), or
// cancelled (ctx ended, or fail-fast stopped the run, before the cell
// passed; a cell that never started has 0 attempts). Reason says why. An
// attempt that passes is kept even if cancellation raced it.
//
// With opts.FailFast, the first cell to end with fail, timeout or error
// cancels the context of every running attempt at once and no further cell
// starts.
func Run(ctx context.Context, cells []Cell, opts RunOptions, fn CellFunc) []report.CellResult {
	if opts.Parallelism < 1 {
		opts.Parallelism = 1
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	results := make([]report.CellResult, len(cells))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallelism)
	r := &runner{opts: opts, fn: fn, ctx: gctx}
	for i := range cells {
		if gctx.Err() != nil {
			results[i] = r.cancelled(cells[i], 0, 0)
			continue
		}
		g.Go(func() error {
			res := r.cell(cells[i])
			if opts.Redact != nil {
				res.LogTail, res.Reason = opts.Redact(res.LogTail), opts.Redact(res.Reason)
			}
			results[i] = res
			if opts.FailFast && !res.Status.Passed() && res.Status != report.Cancelled {
				return &failFastError{id: res.ID, status: res.Status}
			}
			return nil
		})
	}
	_ = g.Wait() // the only error is the fail-fast signal, already in results
	return results
}

// failFastError is what a failing cell returns to errgroup to cancel the run;
// it is the run context's cause, which cancelled cells report.
type failFastError struct {
	id     string
	status report.Status
}

func (e *failFastError) Error() string {
	return fmt.Sprintf("fail-fast after cell %q ended %s", e.id, e.status)
}

type runner struct {
	opts RunOptions
	fn   CellFunc
	ctx  context.Context
}

func (r *runner) cancelled(c Cell, attempts int, d time.Duration) report.CellResult {
	res := c.Result()
	res.Status, res.Attempts, res.Duration = report.Cancelled, attempts, report.Duration(d)
	res.Reason = "cancelled: " + context.Cause(r.ctx).Error()
	if attempts == 0 {
		res.Reason += " (not started)"
	}
	return res
}

// cell runs one cell through its attempts.
func (r *runner) cell(c Cell) report.CellResult {
	start := r.opts.Now()
	res := c.Result()
	for attempt := 1; attempt <= 1+r.opts.Retries; attempt++ {
		if r.ctx.Err() != nil {
			return r.cancelled(c, attempt-1, r.opts.Now().Sub(start))
		}
		out, err, timedOut := r.attempt(c, attempt)
		res.Attempts = attempt
		res.Duration = report.Duration(r.opts.Now().Sub(start))
		res.ExitCode = out.ExitCode
		res.LogTail = report.Tail(out.Log, report.MaxLogTail)
		res.Cases = out.Cases
		passed := err == nil && !out.Failed()
		switch {
		case passed:
			res.Status, res.Reason = report.Pass, ""
			if attempt > 1 {
				res.Status = report.Flaky
				res.Reason = fmt.Sprintf("passed on attempt %d of %d", attempt, 1+r.opts.Retries)
			}
			return res
		case r.ctx.Err() != nil:
			cr := r.cancelled(c, attempt, res.Duration.Std())
			cr.ExitCode, cr.LogTail, cr.Cases = res.ExitCode, res.LogTail, res.Cases
			return cr
		case timedOut:
			res.Status = report.Timeout
			res.Reason = fmt.Sprintf("attempt %d timed out after %s", attempt, r.opts.Timeout)
		case err != nil:
			res.Status = report.Error
			res.Reason = fmt.Sprintf("attempt %d: %v", attempt, err)
			return res
		case report.CannotRun(out.ExitCode) && len(out.Cases) == 0:
			// The shell's "not executable" (126) or "not found" (127):
			// every retry would fail the same way.
			res.Status = report.Fail
			res.Reason = fmt.Sprintf("attempt %d: exit code %d: the command could not run (not found or not executable); not retried", attempt, out.ExitCode)
			return res
		default:
			res.Status = report.Fail
			res.Reason = fmt.Sprintf("attempt %d failed: %s", attempt, failure(out))
		}
	}
	if r.opts.Retries > 0 {
		res.Reason += fmt.Sprintf(" (all %d attempts failed)", 1+r.opts.Retries)
	}
	return res
}

// attempt calls fn once under the attempt's timeout, turning a panic into an
// error. timedOut is true when the attempt's own deadline passed (not the
// run's).
func (r *runner) attempt(c Cell, attempt int) (out Outcome, err error, timedOut bool) {
	ctx := r.ctx
	if r.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.opts.Timeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = Outcome{}, fmt.Errorf("panic: %v", p)
		}
		timedOut = r.opts.Timeout > 0 && r.ctx.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
	}()
	out, err = r.fn(ctx, c, attempt)
	return out, err, false
}

func failure(o Outcome) string {
	n := 0
	for _, c := range o.Cases {
		if c.Status.Failed() {
			n++
		}
	}
	switch {
	case o.ExitCode != 0 && n > 0:
		return fmt.Sprintf("exit code %d, %s", o.ExitCode, failingTests(n))
	case o.ExitCode != 0:
		return fmt.Sprintf("exit code %d", o.ExitCode)
	}
	return failingTests(n) + " (exit code 0)"
}

func failingTests(n int) string {
	if n == 1 {
		return "1 failing test"
	}
	return fmt.Sprintf("%d failing tests", n)
}
