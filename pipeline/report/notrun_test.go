package report

import (
	"fmt"
	"strings"
	"testing"
)

func TestAlignNotRun(t *testing.T) {
	t.Parallel()
	cell := func(id, platform string, s Status) CellResult {
		return CellResult{ID: id, Platform: platform, Status: s}
	}
	no := func(id, platform string) NotRunCell {
		return NotRunCell{ID: id, Platform: platform, Reason: "the engine cannot run " + platform + " images"}
	}
	for _, tt := range []struct {
		name           string
		a, b           *Report
		wantA, wantB   string
		notRunA, notRB int
	}{
		{"nothing left out", &Report{Cells: []CellResult{cell("unit", "", Pass)}}, &Report{Cells: []CellResult{cell("unit", "", Fail)}}, "[unit]", "[unit]", 0, 0},
		{
			"the candidate could not run arm64: the baseline's arm64 cell is left out",
			&Report{Cells: []CellResult{cell("unit", "", Pass)}, NotRun: []NotRunCell{no("unit@linux/arm64", "linux/arm64")}},
			&Report{Cells: []CellResult{cell("unit", "", Pass), cell("unit@linux/arm64", "linux/arm64", Fail)}},
			"[unit]", "[unit]", 1, 1,
		},
		{
			"the baseline could not: the candidate's is left out too",
			&Report{Cells: []CellResult{cell("unit", "", Pass), cell("unit@linux/arm64", "linux/arm64", Pass)}},
			&Report{Cells: []CellResult{cell("unit", "", Pass)}, NotRun: []NotRunCell{no("unit@linux/arm64", "linux/arm64")}},
			"[unit]", "[unit]", 1, 1,
		},
		{"no baseline", &Report{Cells: []CellResult{cell("unit", "", Pass)}, NotRun: []NotRunCell{no("unit@linux/arm64", "linux/arm64")}}, nil, "[unit]", "", 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			AlignNotRun(tt.a, tt.b)
			ids := func(r *Report) string {
				if r == nil {
					return ""
				}
				var s []string
				for _, c := range r.Cells {
					s = append(s, c.ID)
				}
				return fmt.Sprint(s)
			}
			if ids(tt.a) != tt.wantA || ids(tt.b) != tt.wantB {
				t.Errorf("cells %s and %s, want %s and %s", ids(tt.a), ids(tt.b), tt.wantA, tt.wantB)
			}
			if len(tt.a.NotRun) != tt.notRunA || (tt.b != nil && len(tt.b.NotRun) != tt.notRB) {
				t.Errorf("not run %+v and %+v", tt.a.NotRun, tt.b)
			}
		})
	}
}

// TestNotRunInJUnit: a cell not run on its platform shows in CI test views
// as a skipped case that says why, not as a pass and not as nothing.
func TestNotRunInJUnit(t *testing.T) {
	t.Parallel()
	r := &Report{Version: Version, Cells: []CellResult{{ID: "unit", Status: Pass, Cases: []Case{{Suite: "pkg", Name: "TestA", Status: CasePass}}}},
		NotRun: []NotRunCell{{ID: "unit@linux/s390x", Platform: "linux/s390x", Reason: "the engine cannot run linux/s390x images"}}}
	var b strings.Builder
	if err := r.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	cases, err := ParseJUnit(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, fmt.Sprintf("%s/%s %s %s", c.Suite, c.Name, c.Status, c.Message))
	}
	want := []string{"unit/TestA pass ", "unit@linux/s390x/[slipway] cell not run skip the engine cannot run linux/s390x images"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("JUnit cases %q, want %q\n%s", got, want, b.String())
	}
}

// FuzzReadReport: a report file as `slipway gate` reads it (outside
// input): reading, merging and aligning never panic, and what they accept
// never has a cell both run and not run.
func FuzzReadReport(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"cells":[{"id":"unit","status":"pass"}]}`,
		`{"version":1,"cells":[{"id":"unit","status":"fail"}],"notRun":[{"id":"unit@linux/arm64","platform":"linux/arm64","reason":"x"}]}`,
		`{"version":1,"cells":[{"id":"unit@linux/arm64","status":"pass","platform":"linux/arm64"}],"notRun":[{"id":"unit@linux/arm64","platform":"linux/arm64","reason":"x"}]}`,
		`{"version":1,"shard":"1/2","cells":[],"notRun":[{"id":"a@x/y","platform":"x/y","reason":""}]}`,
	} {
		f.Add(s, `{"version":1,"cells":[{"id":"unit","status":"pass"},{"id":"unit@linux/arm64","status":"fail","platform":"linux/arm64"}]}`)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ra, errA := ReadJSON(strings.NewReader(a))
		rb, errB := ReadJSON(strings.NewReader(b))
		if errA != nil || errB != nil {
			return
		}
		if m, err := Merge(ra, rb); err == nil {
			checkRunOrNot(t, m)
		}
		AlignNotRun(ra, rb)
		checkRunOrNot(t, ra)
		checkRunOrNot(t, rb)
		var w strings.Builder
		_ = ra.WriteMarkdown(&w, "")
		_ = ra.WriteJUnit(&w)
	})
}

func checkRunOrNot(t *testing.T, r *Report) {
	t.Helper()
	run := map[string]bool{}
	for _, c := range r.Cells {
		run[c.ID] = true
	}
	for _, n := range r.NotRun {
		if run[n.ID] {
			t.Fatalf("cell %s is both run and not run: %+v", n.ID, r)
		}
	}
}
