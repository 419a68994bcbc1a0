package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// JUnitFile is a JUnit file to read into a cell: its name (for errors and
// the cell's reason) and its contents.
type JUnitFile struct {
	Name string
	R    io.Reader
}

// CellFromJUnit makes the result of a cell that ran outside the engine from
// the JUnit files its runner wrote, as the module makes one from the files
// of a cell it ran (flow.Outcome): the cases of every file in order, each
// file resolved on its own (ParseJUnit). The cell fails when a case fails
// or when the files hold no case at all (a runner that died before writing
// results looks the same); else it passes. Attempts is 1 and Duration the
// sum of the cases' times. A file that is not JUnit is an error naming it.
func CellFromJUnit(id string, files []JUnitFile, opts ...ParseOption) (CellResult, error) {
	c := CellResult{ID: id, Status: Pass, Attempts: 1}
	if id == "" {
		return c, fmt.Errorf("cell with no name")
	}
	if len(files) == 0 {
		return c, fmt.Errorf("cell %q: no JUnit files", id)
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		cases, err := ParseJUnit(f.R, opts...)
		if err != nil {
			return c, fmt.Errorf("cell %q: %s: %w", id, f.Name, err)
		}
		c.Cases = append(c.Cases, cases...)
		names = append(names, f.Name)
	}
	var d Duration
	failed := 0
	for _, tc := range c.Cases {
		d += tc.Time
		if tc.Status.Failed() {
			failed++
		}
	}
	c.Duration = d
	switch {
	case len(c.Cases) == 0:
		c.Status, c.ExitCode = Fail, 1
		c.Reason = "no test case in " + strings.Join(names, ", ") + ": the runner wrote no results"
	case failed > 0:
		c.Status, c.ExitCode = Fail, 1
		i := slices.IndexFunc(c.Cases, func(tc Case) bool { return tc.Status.Failed() })
		c.Reason = fmt.Sprintf("%d of %d test cases failed, first: %s", failed, len(c.Cases), c.Cases[i].ID())
	}
	return c, nil
}
