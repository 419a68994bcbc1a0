package report

import "slices"

// LeaveOut moves the cells in reasons (by ID) from r.Cells to r.NotRun,
// each with its reason, and marks the platforms of r's build with what
// ran on them (MarkPlatforms).
func (r *Report) LeaveOut(reasons map[string]string) {
	r.Cells = slices.DeleteFunc(r.Cells, func(c CellResult) bool {
		why, ok := reasons[c.ID]
		if ok {
			r.NotRun = append(r.NotRun, NotRunCell{ID: c.ID, Platform: c.Platform, Reason: why})
		}
		return ok
	})
	r.MarkPlatforms()
}

// AlignNotRun leaves out of each report the cells the other could not run
// on their platform: a cell the candidate could not run is not compared
// with the baseline's, and the other way round. A cell that ran, whatever
// its result, stays for the gate to judge.
func AlignNotRun(a, b *Report) {
	if a == nil || b == nil {
		return
	}
	for _, pair := range [][2]*Report{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		reasons := map[string]string{}
		for _, n := range from.NotRun {
			if !slices.ContainsFunc(to.NotRun, func(o NotRunCell) bool { return o.ID == n.ID }) {
				reasons[n.ID] = "not run in the other image's run: " + n.Reason
			}
		}
		if len(reasons) > 0 {
			to.LeaveOut(reasons)
		}
	}
}
