package doccheck

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// TestREADMEPlatformReport: the per-platform report of "Several platforms"
// (in README or docs/) is what a report renders for a run whose suites ran on the
// first platform, smoke-tested the second and could not run the third.
func TestREADMEPlatformReport(t *testing.T) {
	platforms := []string{"linux/amd64", "linux/arm64", "linux/s390x"}
	s := time.Second
	r := &report.Report{
		Version: report.Version,
		Build: &report.Build{Images: 3, Duration: report.Duration(52 * s), Platforms: report.PlatformsBuilt(platforms,
			[]report.Duration{report.Duration(12300 * time.Millisecond), report.Duration(40100 * time.Millisecond), report.Duration(51700 * time.Millisecond)})},
		Cells: []report.CellResult{
			{ID: "unit", Status: report.Pass},
			{ID: "unit@linux/arm64", Platform: "linux/arm64", Status: report.Pass},
			{ID: "smoke", Status: report.Pass, Smoke: true},
			{ID: "smoke@linux/arm64", Platform: "linux/arm64", Status: report.Pass, Smoke: true},
			{ID: "unit@linux/s390x", Platform: "linux/s390x", Status: report.Pass},
			{ID: "smoke@linux/s390x", Platform: "linux/s390x", Status: report.Pass, Smoke: true},
		},
	}
	why := (&flow.EmulationError{Platform: "linux/s390x", Err: errors.New("exec /bin/sh: exec format error")}).Error()
	r.LeaveOut(map[string]string{"unit@linux/s390x": why, "smoke@linux/s390x": why})
	var b strings.Builder
	if err := r.WriteMarkdown(&b, "headline"); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	start := strings.Index(md, "Built ")
	end := strings.Index(md[start:], "|\n\n")
	if start < 0 || end < 0 {
		t.Fatalf("no build table in:\n%s", md)
	}
	want := md[start:start+end+1] + "\n"
	for _, p := range readDocs(t) {
		for _, m := range codeBlock.FindAllStringSubmatch(p.md, -1) {
			if m[1] == "text" && strings.HasPrefix(m[2], "Built 3 images once") {
				if m[2] != want {
					t.Errorf("%s's platform report differs from what a report renders:\n%s:\n%s\nrendered:\n%s", p.file, p.file, m[2], want)
				}
				return
			}
		}
	}
	t.Errorf("neither README nor docs/ has a platform report (a text block starting \"Built 3 images once\"); want:\n%s", want)
}
