package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Platforms checks a suite with platforms: all on two platforms.
//
// The sample app is built for the engine's platform and one other; the
// unit suite runs on both. Where the engine emulates the other platform
// and the base image has a variant for it, its cell unit@PLATFORM passes
// and the platform is smoke-tested; where the engine cannot run it, or
// the base image has no variant for it (the build then took the engine's
// platform's binaries, whose cell would pass and prove nothing), the
// cell is listed as not run with the reason and the platform is built
// only. Anything else (an error cell, a missing platform, a pass on the
// other platform's binaries) fails the check.
//
// +check
// +cache="session"
func (t *SlipwayTests) Platforms(ctx context.Context) error {
	s, err := t.newScenario(ctx, "platforms")
	if err != nil {
		return err
	}
	other := "linux/arm64"
	if strings.Contains(string(s.platform), "arm64") {
		other = "linux/amd64"
	}
	config := strings.Replace(s.config("base", []string{"unit"}), "platforms: ["+string(s.platform)+"]", "platforms: ["+string(s.platform)+", "+other+"]", 1)
	config = strings.Replace(config, "      reports: [/out/unit.xml]\n", "      reports: [/out/unit.xml]\n      platforms: all\n", 1)
	text, err := s.slipwayConfig("platforms", config).Test().JSON(ctx)
	if err != nil {
		return fmt.Errorf("test must report, not fail: %w", err)
	}
	var r struct {
		Build struct {
			Platforms []struct{ Platform, Status, Note string } `json:"platforms"`
		} `json:"build"`
		Cells []struct {
			ID, Status, Platform string
		} `json:"cells"`
		NotRun []struct{ ID, Platform, Reason string } `json:"notRun"`
	}
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return fmt.Errorf("report JSON: %w", err)
	}
	if len(r.Build.Platforms) != 2 || r.Build.Platforms[1].Platform != other {
		return fmt.Errorf("build platforms %+v, want %s and %s", r.Build.Platforms, s.platform, other)
	}
	status := map[string]string{}
	for _, c := range r.Cells {
		status[c.ID] = c.Status
	}
	id := "unit@" + other
	switch p := r.Build.Platforms[1]; p.Status {
	case "smoke-tested":
		if status[id] != "pass" || status["unit"] != "pass" {
			return fmt.Errorf("smoke-tested, but cells %v: want unit and %s to pass", status, id)
		}
	case "built-only":
		if len(r.NotRun) != 1 || r.NotRun[0].ID != id || !strings.Contains(p.Note, "cannot run") {
			return fmt.Errorf("built only, but not run %+v and note %q: want %s not run, and why", r.NotRun, p.Note, id)
		}
		if strings.Contains(p.Note, "its binaries are") && !strings.Contains(p.Note, "a base image with no "+other+" variant") {
			return fmt.Errorf("built only with note %q: want it to name the base image's missing %s variant", p.Note, other)
		}
	default:
		return fmt.Errorf("platform %s: status %q", other, p.Status)
	}
	return nil
}
