package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Smoke checks the smoke check of a config with no suite.
//
// The sample app's own command (testdata/app/start.sh) starts a server
// that its HEALTHCHECK finds healthy: the smoke cell passes on the
// HEALTHCHECK (which the module read from the image config), and the
// summary says smoke is all that was tested. The broken variant fails at
// start: the cell fails with its exit code and the log tail.
//
// +check
// +cache="session"
func (t *SlipwayTests) Smoke(ctx context.Context) error {
	s, err := t.newScenario(ctx, "smoke")
	if err != nil {
		return err
	}
	for _, tt := range []struct {
		variant, status string
		exitCode        int
		log             string
		failed          int
	}{
		{"base", "pass", 0, "the HEALTHCHECK passed", 0},
		{"broken", "fail", 127, "libssl.so.3", 1},
	} {
		rep := s.slipwayConfig("smoke-"+tt.variant, s.config(tt.variant, nil)+"smoke:\n  duration: 5s\n").Test()
		cells, err := rep.Cells(ctx)
		if err != nil {
			return fmt.Errorf("%s: test must report, not fail: %w", tt.variant, err)
		}
		if err := expectCells(ctx, cells, []cellWant{{name: "smoke", status: tt.status, exitCode: tt.exitCode, attempts: 1}}); err != nil {
			return fmt.Errorf("%s: %w", tt.variant, err)
		}
		text, err := rep.JSON(ctx)
		if err != nil {
			return err
		}
		var r struct {
			Cells []struct {
				LogTail string `json:"logTail"`
				Smoke   bool   `json:"smoke"`
			} `json:"cells"`
		}
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return fmt.Errorf("report JSON: %w", err)
		}
		if len(r.Cells) != 1 || !r.Cells[0].Smoke || !strings.Contains(r.Cells[0].LogTail, tt.log) {
			return fmt.Errorf("%s: smoke cell %+v, want its log to say %q", tt.variant, r.Cells, tt.log)
		}
		md, err := rep.Markdown(ctx)
		if err != nil {
			return err
		}
		if !strings.Contains(md, "Only the smoke check ran") {
			return fmt.Errorf("%s: the summary does not say smoke is all that was tested:\n%s", tt.variant, md)
		}
		// The smoke cell is one test, in the headline and in its row alike.
		if !strings.Contains(md, " · 1 tests: ") || !strings.Contains(md, "| `smoke` | ") || !strings.Contains(md, " | 1 | "+strconv.Itoa(tt.failed)+" | 0 | 1 |") {
			return fmt.Errorf("%s: the summary's count of tests and the smoke row disagree:\n%s", tt.variant, md)
		}
	}
	return nil
}
