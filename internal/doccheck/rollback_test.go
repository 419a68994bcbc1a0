package doccheck

import (
	"strings"
	"testing"
)

// TestRollbackWorkflowShape checks ci/github/workflows/rollback.yml: run by
// hand only, a dry run unless a person unticks it, a reason required, the
// CLI pinned, and one slipway rollback per way of naming the target.
func TestRollbackWorkflowShape(t *testing.T) {
	d := loadYAML(t, "ci/github/workflows/rollback.yml")
	on := mapAt(d.m, "on")
	if len(on) != 1 || on["workflow_dispatch"] == nil {
		t.Errorf("rollback.yml: runs on %v, want workflow_dispatch only", on)
	}
	inputs := mapAt(on, "workflow_dispatch", "inputs")
	if dry := mapAt(inputs, "dry-run"); str(dry["type"]) != "boolean" || str(dry["default"]) != "true" {
		t.Errorf("rollback.yml: input dry-run %v, want a boolean defaulting to true", dry)
	}
	if r := mapAt(inputs, "reason"); str(r["required"]) != "true" {
		t.Errorf("rollback.yml: input reason %v, want it required", r)
	}
	for _, in := range []string{"tag", "steps", "to"} {
		if mapAt(inputs, in) == nil || str(mapAt(inputs, in)["description"]) == "" {
			t.Errorf("rollback.yml: no described input %q", in)
		}
	}
	if v := str(mapAt(d.m, "env")["SLIPWAY_VERSION"]); v == "" || v == "latest" || strings.Contains(v, "main") {
		t.Errorf("rollback.yml: SLIPWAY_VERSION %q is not pinned", v)
	}
	var targets []string
	for _, j := range mapAt(d.m, "jobs") {
		for _, s := range scripts(mapAt(j)) {
			for _, inv := range ExtractCommands(s, 1) {
				if inv.Tool != "slipway" || inv.Args[0] != "rollback" {
					continue
				}
				args := " " + strings.Join(inv.Args, " ") + " "
				for _, f := range []string{"--to", "--steps"} {
					if strings.Contains(args, " "+f+" ") {
						targets = append(targets, f)
					}
				}
				for _, f := range []string{"--dry-run=", "--reason", "--tag"} {
					if !strings.Contains(args, " "+f) {
						t.Errorf("rollback.yml: %q lacks %s", strings.TrimSpace(args), f)
					}
				}
			}
		}
	}
	if strings.Join(targets, ",") != "--to,--steps" {
		t.Errorf("rollback.yml: rollback targets %v, want one call with --to and one with --steps", targets)
	}
}
