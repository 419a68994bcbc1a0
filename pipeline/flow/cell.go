package flow

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// Exec is one attempt of one cell, as the engine must run it.
type Exec struct {
	// Argv is the command: the suite's exec form, or sh -c for its shell form.
	Argv []string
	// Env is sorted KEY=VALUE pairs; it always carries SLIPWAY_CELL and
	// SLIPWAY_ATTEMPT, so that a retry is a new exec and not a cached one.
	Env []string
	// Workdir is "" for the image's own.
	Workdir string
	// MountSource is where the repository's sources go, "" for nowhere.
	MountSource string
	// Reports are the JUnit files to read back after the command.
	Reports []string
	// Runner is the container the command runs in; zero: the target.
	Runner Runner
	// Services are started before the command, bound to it by name, and
	// stopped after it.
	Services []Service
	// Secrets are the secrets of the call the command's container gets.
	Secrets []Secret
	// Window, when not zero, is how long the command may run: one still
	// running then is stopped, and its result says Running (the smoke
	// check of a server). Zero: the command runs to its end.
	Window time.Duration
}

// Secret is a secret of the call that a container gets.
type Secret struct {
	// Key is where: an environment variable, or an absolute path where the
	// secret is mounted as a file (config.IsFile).
	Key string
	// Name is the secret's name, one the call provides.
	Name string
}

// secretsOf lists a config's secrets by key.
func secretsOf(s config.Secrets) []Secret {
	var out []Secret
	for _, k := range slices.Sorted(maps.Keys(s)) {
		out = append(out, Secret{Key: k, Name: s[k]})
	}
	return out
}

// ExecResult is what the engine saw. A non-zero exit code is a result, not
// an error.
type ExecResult struct {
	ExitCode int
	Output   string
	// Files holds the contents of the Reports that exist.
	Files map[string]string
	// Running is true when the command was still running at the end of
	// the exec's Window (and was stopped): not a failure.
	Running bool
}

// redacted is r with redact applied to its output and every report file,
// before anything is read from them: a secret a test printed, or wrote
// into its JUnit file, reaches no report.
func (r ExecResult) redacted(redact func(string) string) ExecResult {
	if redact == nil {
		return r
	}
	r.Output = redact(r.Output)
	files := make(map[string]string, len(r.Files))
	for p, body := range r.Files {
		files[p] = redact(body)
	}
	r.Files = files
	return r
}

// ExecFor returns how the engine runs attempt of cell c.
func ExecFor(c matrix.Cell, attempt int) Exec {
	argv := c.Run.Args
	if c.Run.Shell != "" {
		argv = []string{"sh", "-c", c.Run.Shell}
	}
	env := append(c.EnvList(), "SLIPWAY_ATTEMPT="+strconv.Itoa(attempt), "SLIPWAY_CELL="+c.ID)
	slices.Sort(env)
	return Exec{Argv: slices.Clone(argv), Env: env, Workdir: c.Workdir, MountSource: c.MountSource, Reports: slices.Clone(c.Reports), Secrets: secretsOf(c.Secrets)}
}

// Outcome turns what the engine saw into the matrix's Outcome: the JUnit
// cases of every report file. A declared report that is missing is noted in
// the log (a cell that ran no test cannot pass the gate on its own); one that
// is not JUnit is an error, since nobody can tell what it held.
func Outcome(x Exec, r ExecResult) (matrix.Outcome, error) {
	out := matrix.Outcome{ExitCode: r.ExitCode, Log: r.Output}
	if r.Running {
		out.ExitCode = 0
		out.Log += fmt.Sprintf("\nslipway smoke: still running after %s", x.Window)
	}
	for _, p := range x.Reports {
		body, ok := r.Files[p]
		if !ok {
			out.Log += fmt.Sprintf("\nslipway: report %s was not written", p)
			continue
		}
		cases, err := report.ParseJUnit(strings.NewReader(body))
		if err != nil {
			return out, fmt.Errorf("report %s: %w", p, err)
		}
		out.Cases = append(out.Cases, cases...)
	}
	return out, nil
}

// Builder is an Engine that can build the run's images before any cell
// runs (an optional capability): the build is then timed and reported
// once, a cell's time is its own, and an image (any platform of it) that
// does not build fails the run before anything is published.
type Builder interface {
	// Build builds what r asks for, the image for every platform, and
	// says how.
	Build(ctx context.Context, r BuildRequest) (*report.Build, error)
}

// BuildRequest is what a run builds before its cells.
type BuildRequest struct {
	// Image is true when the target is the image built in this run.
	Image bool
	// Names, in a run of several images, are the images to build (those
	// not given as refs), by name, in the run's order; nil in a run of one.
	Names []string
	// Stages are the Dockerfile stages the cells' runners run in, each
	// built once, in the order the cells first name them.
	Stages []Stage
}

// Images is how many images r builds.
func (r BuildRequest) Images() int {
	n := len(r.Stages) + len(r.Names)
	if r.Image && r.Names == nil {
		n++
	}
	return n
}

// runnerStages lists the Dockerfile stages cells run in, each once.
func runnerStages(cells []matrix.Cell) []Stage {
	var out []Stage
	for _, c := range cells {
		st := Stage{Image: c.Runner.Build.Image, Target: c.Runner.Build.Target}
		if st.Target != "" && !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out
}

// Test runs cells on target through eng and returns the report. It never
// fails on test failures: they are in the report. When eng is a Builder,
// the image built in this run (when it is the target) and the runner
// stages the cells need are built first, once; a build that fails makes
// every cell an error (never a test result) that says so.
func Test(ctx context.Context, eng Engine, t Target, cells []matrix.Cell, opts matrix.RunOptions, meta report.Report) *report.Report {
	return TestSubject(ctx, eng, Subject{Role: t.Role, Images: []Target{t}}, cells, opts, meta)
}

// TestSubject is Test of every image of a run at once: each cell runs
// against the images of s it names (see ExecOf). The images s builds in
// this run are built first, once each, with the runner stages.
func TestSubject(ctx context.Context, eng Engine, s Subject, cells []matrix.Cell, opts matrix.RunOptions, meta report.Report) *report.Report {
	var built *report.Build
	var buildErr error
	req := s.buildRequest(runnerStages(cells))
	if b, ok := eng.(Builder); ok && req.Images() > 0 {
		var err error
		if built, err = b.Build(ctx, req); err != nil {
			built, buildErr = nil, fmt.Errorf("building the image: %w", err)
		}
	}
	var mu sync.Mutex
	unrun := map[string]string{}
	results := matrix.Run(ctx, cells, opts, func(ctx context.Context, c matrix.Cell, attempt int) (matrix.Outcome, error) {
		if buildErr != nil {
			return matrix.Outcome{}, buildErr
		}
		t, x, note, err := execOf(ctx, eng, s.OnPlatform(c.Platform), c, attempt)
		if err == nil {
			var r ExecResult
			if r, err = eng.Exec(ctx, t, x); err == nil {
				r = r.redacted(opts.Redact)
				if note != "" {
					r.Output = note + "\n" + r.Output
				}
				return Outcome(x, r)
			}
		}
		if why, ok := notRun(err); ok && c.Platform != "" {
			mu.Lock()
			unrun[c.ID] = why
			mu.Unlock()
			// Not an error for fail-fast to act on: the cell is taken out
			// of the results below, whatever this outcome says.
			return matrix.Outcome{}, nil
		}
		return unhealthyOutcome(err), err
	})
	rep := meta
	rep.Version = report.Version
	rep.Cells = results
	rep.Build = built
	if rep.Image == "" {
		rep.Image = s.describe()
	}
	rep.LeaveOut(unrun)
	return &rep
}

// execOf returns the exec of attempt of cell c against s, the image its
// command runs in when it has no runner, and a note for its log: a suite's
// command, or the smoke check of the image's own.
func execOf(ctx context.Context, eng Engine, s Subject, c matrix.Cell, attempt int) (Target, Exec, string, error) {
	if c.Smoke == 0 {
		t, x, err := ExecOf(c, s, attempt)
		return t, x, "", err
	}
	t, ok := s.Find(c.Image)
	if !ok {
		return t, Exec{}, "", fmt.Errorf("the %s has no image %s", s.Role, c.Image)
	}
	img, err := eng.Inspect(ctx, t)
	if err != nil {
		return t, Exec{}, "", fmt.Errorf("reading the image's config: %w", err)
	}
	x, err := SmokeExec(c, attempt, img)
	return t, x, smokeNote(img, c.Smoke), err
}
