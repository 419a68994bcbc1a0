// Package matrix turns the test section of slipway.yaml into cells, picks a
// runner's shard of them, and runs cells with bounded parallelism, a timeout
// per attempt, retries and fail-fast. It knows nothing of Dagger: the runner
// calls a function per cell, which the module backs with container execs and
// tests back with real work.
package matrix

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// MaxCells bounds the cells one matrix may expand to.
const MaxCells = 10_000

// Cell is one suite run with one value per axis it references.
type Cell struct {
	// ID is the suite name with the axes interpolated ("e2e-2-firefox"),
	// unique in the matrix and stable across runs of the same config.
	ID string
	// Suite is the suite's name as written ("e2e-${shard}-${browser}").
	Suite string
	// Axes are the values of the axes the suite references, in matrix order.
	Axes []report.AxisValue
	// Run is the command with the axes interpolated.
	Run config.Command
	// Env with the axes interpolated into the values.
	Env map[string]string
	// Secrets are the command's: the suite's and its runner's.
	Secrets config.Secrets
	// Workdir, MountSource and Reports are the suite's, as written.
	Workdir     string
	MountSource string
	Reports     []string
	// Image names the image of the run the command runs in when there is
	// no runner (the suite's image); "" is the run's first image.
	Image string
	// Runner is the suite's runner (zero: the image under test).
	Runner config.Runner
	// Services are the suite's, with the axes interpolated into their env
	// values and args.
	Services []config.Service
	// Smoke, when not zero, makes this cell the smoke check (see
	// config.Smoke): the image runs its own entrypoint and command, which
	// must still run (or be healthy) after Smoke, or exit 0 before.
	Smoke time.Duration
	// AllPlatforms is the suite's (or smoke check's) platforms: all: see
	// OnPlatforms.
	AllPlatforms bool
	// Platform is the platform of the image under test this cell runs on;
	// "" for the first of build.platforms.
	Platform string
}

// SmokeCell is the smoke check's cell (config.SmokeCell), for a run whose
// config has s.Runs.
func SmokeCell(s config.Smoke) Cell {
	return Cell{ID: config.SmokeCell, Suite: config.SmokeCell, Smoke: s.Duration.Std(), AllPlatforms: config.OnAllPlatforms(s.Platforms)}
}

// OnPlatforms adds, after each cell that runs on all platforms, a copy
// for each of the other platforms built (platforms[1:]), with ID
// "ID@PLATFORM" and Platform set: the smoke subset of the other
// platforms. The first platform's cells keep their IDs, so a config that
// adds platforms keeps its baseline's cells.
func OnPlatforms(cells []Cell, platforms []string) []Cell {
	if len(platforms) < 2 {
		return cells
	}
	out := make([]Cell, 0, len(cells))
	for _, c := range cells {
		out = append(out, c)
		if !c.AllPlatforms {
			continue
		}
		for _, p := range platforms[1:] {
			v := c
			v.ID, v.Platform = c.ID+"@"+p, p
			out = append(out, v)
		}
	}
	return out
}

// EnvList returns the cell's environment as sorted "KEY=VALUE" strings: a
// stable order, so that setting them one by one gives the same exec cache key
// every run.
func (c Cell) EnvList() []string {
	out := make([]string, 0, len(c.Env))
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		out = append(out, k+"="+c.Env[k])
	}
	return out
}

// Result returns an empty result for c: its id, suite and axes.
func (c Cell) Result() report.CellResult {
	return report.CellResult{ID: c.ID, Suite: c.Suite, Axes: slices.Clone(c.Axes), Smoke: c.Smoke > 0, Platform: c.Platform}
}

// Cells expands the test section into cells, in a deterministic order: suites
// in config order; within a suite, the product of the axes it references
// (${axis} in its name, run or env values; see config.Suite.Axes), first axis
// outermost, then the cells its include entries add.
//
//   - A suite that references no axis runs once.
//   - An exclude entry removes the cells of a suite that references every
//     axis the entry names, when all the entry's values match.
//   - An include entry adds a cell to each suite whose referenced axes the
//     entry all names (extra names are ignored for that suite), unless the
//     suite already has that cell; include wins over exclude. An entry that
//     fits no suite is an error.
//
// ${axis} is interpolated into the name (the cell's ID), command and env
// values with config.Expand ("$${" is a literal "${"). Two cells with the
// same ID are an error: a suite's name must reference every axis it uses.
func Cells(cfg config.Test) ([]Cell, error) {
	m := cfg.Matrix
	for _, a := range m {
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("test.matrix.%s: axis has no values", a.Name)
		}
	}
	for _, e := range []struct {
		path    string
		entries []map[string]string
	}{{"test.exclude", cfg.Exclude}, {"test.include", cfg.Include}} {
		for i, entry := range e.entries {
			for _, k := range slices.Sorted(maps.Keys(entry)) {
				if _, ok := m.Axis(k); !ok {
					return nil, fmt.Errorf("%s[%d].%s: not a matrix axis (axes: %s)", e.path, i, k, strings.Join(m.Names(), ", "))
				}
			}
		}
	}

	var cells []Cell
	used := make([]bool, len(cfg.Include))
	suiteOf := map[string]string{}
	for _, s := range cfg.Suites {
		axes := s.Axes(m)
		size := 1
		for _, a := range axes {
			size *= len(a.Values)
			if size+len(cells) > MaxCells {
				return nil, fmt.Errorf("suite %q: the matrix expands to more than %d cells", s.Name, MaxCells)
			}
		}
		combos := product(axes, size)
		combos = slices.DeleteFunc(combos, func(vals map[string]string) bool {
			return slices.ContainsFunc(cfg.Exclude, func(e map[string]string) bool { return covers(axes, e, true) && matches(e, vals) })
		})
		for i, e := range cfg.Include {
			if !covers(axes, e, false) {
				continue
			}
			used[i] = true
			vals := make(map[string]string, len(axes))
			for _, a := range axes {
				vals[a.Name] = e[a.Name]
			}
			if !slices.ContainsFunc(combos, func(c map[string]string) bool { return maps.Equal(c, vals) }) {
				combos = append(combos, vals)
			}
		}
		if len(combos)+len(cells) > MaxCells {
			return nil, fmt.Errorf("suite %q: the matrix expands to more than %d cells", s.Name, MaxCells)
		}
		for _, vals := range combos {
			c := cell(s, axes, vals)
			if c.ID == "" {
				return nil, fmt.Errorf("suite %q: empty cell id", s.Name)
			}
			if other, dup := suiteOf[c.ID]; dup {
				return nil, fmt.Errorf("duplicate cell id %q (suites %q and %q): a suite's name must reference every axis its run or env uses", c.ID, other, s.Name)
			}
			suiteOf[c.ID] = s.Name
			cells = append(cells, c)
		}
	}
	for i, ok := range used {
		if !ok {
			return nil, fmt.Errorf("test.include[%d]: %s fits no suite (an entry must name every axis a suite references)", i, entryString(cfg.Include[i]))
		}
	}
	return cells, nil
}

// product returns every combination of the axes' values, first axis
// outermost.
func product(axes config.Matrix, size int) []map[string]string {
	out := make([]map[string]string, 0, size)
	idx := make([]int, len(axes))
	for {
		vals := make(map[string]string, len(axes))
		for i, a := range axes {
			vals[a.Name] = a.Values[idx[i]]
		}
		out = append(out, vals)
		i := len(axes) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(axes[i].Values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

// covers reports whether entry fits a suite with these axes: for an exclude,
// the suite references every key of the entry; for an include, the entry
// names every axis of the suite.
func covers(axes config.Matrix, entry map[string]string, exclude bool) bool {
	if len(entry) == 0 {
		return false
	}
	if exclude {
		for k := range entry {
			if _, ok := axes.Axis(k); !ok {
				return false
			}
		}
		return true
	}
	for _, a := range axes {
		if _, ok := entry[a.Name]; !ok {
			return false
		}
	}
	return true
}

func matches(entry, vals map[string]string) bool {
	for k, v := range entry {
		if vals[k] != v {
			return false
		}
	}
	return true
}

func cell(s config.Suite, axes config.Matrix, vals map[string]string) Cell {
	c := Cell{
		ID:           config.Expand(s.Name, vals),
		Suite:        s.Name,
		Workdir:      s.Workdir,
		MountSource:  s.MountSource,
		Reports:      slices.Clone(s.Reports),
		Image:        s.Image,
		Runner:       s.Runner,
		AllPlatforms: config.OnAllPlatforms(s.Platforms),
	}
	if len(s.Secrets)+len(s.Runner.Secrets) > 0 {
		c.Secrets = config.Secrets{}
		maps.Copy(c.Secrets, s.Secrets)
		maps.Copy(c.Secrets, s.Runner.Secrets)
	}
	for _, svc := range s.Services {
		svc.Secrets = maps.Clone(svc.Secrets)
		svc.Ports = slices.Clone(svc.Ports)
		svc.Health.Exec = slices.Clone(svc.Health.Exec)
		if svc.Args != nil {
			args := make([]string, len(svc.Args))
			for i, a := range svc.Args {
				args[i] = config.Expand(a, vals)
			}
			svc.Args = args
		}
		if svc.Env != nil {
			env := make(map[string]string, len(svc.Env))
			for k, v := range svc.Env {
				env[k] = config.Expand(v, vals)
			}
			svc.Env = env
		}
		c.Services = append(c.Services, svc)
	}
	for _, a := range axes {
		c.Axes = append(c.Axes, report.AxisValue{Name: a.Name, Value: vals[a.Name]})
	}
	if s.Run.Args != nil {
		c.Run.Args = make([]string, len(s.Run.Args))
		for i, arg := range s.Run.Args {
			c.Run.Args[i] = config.Expand(arg, vals)
		}
	} else {
		c.Run.Shell = config.Expand(s.Run.Shell, vals)
	}
	if s.Env != nil {
		c.Env = make(map[string]string, len(s.Env))
		for k, v := range s.Env {
			c.Env[k] = config.Expand(v, vals)
		}
	}
	return c
}

func entryString(e map[string]string) string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
