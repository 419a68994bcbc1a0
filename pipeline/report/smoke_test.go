package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestSmokeOnly: a report says that the smoke check is all it tested only
// when every cell is the smoke check, in its JSON and in its summary.
func TestSmokeOnly(t *testing.T) {
	t.Parallel()
	smoke := CellResult{ID: "smoke", Suite: "smoke", Status: Pass, Attempts: 1, Smoke: true}
	unit := CellResult{ID: "unit", Suite: "unit", Status: Pass, Attempts: 1}
	for _, tt := range []struct {
		name  string
		cells []CellResult
		want  bool
	}{
		{"the smoke check alone", []CellResult{smoke}, true},
		{"beside a suite", []CellResult{smoke, unit}, false},
		{"suites only", []CellResult{unit}, false},
		{"no cell", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &Report{Version: Version, Cells: tt.cells}
			if got := r.SmokeOnly(); got != tt.want {
				t.Errorf("SmokeOnly() = %v, want %v", got, tt.want)
			}
			var md bytes.Buffer
			if err := r.WriteMarkdown(&md, ""); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(md.String(), SmokeNote); got != tt.want {
				t.Errorf("summary carries the smoke note: %v, want %v\n%s", got, tt.want, md.String())
			}
			var j bytes.Buffer
			if err := r.WriteJSON(&j); err != nil {
				t.Fatal(err)
			}
			back, err := ReadJSON(&j)
			if err != nil {
				t.Fatal(err)
			}
			if back.SmokeOnly() != tt.want {
				t.Errorf("the smoke mark does not survive JSON: %s", j.String())
			}
		})
	}
	if (*Report)(nil).SmokeOnly() {
		t.Error("a nil report is smoke only")
	}
}
