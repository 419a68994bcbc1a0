package config

import (
	"strings"
	"testing"
)

func TestRetentionRollbackTargets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, doc string
		want      int
		err       string
	}{
		{"default", "", DefaultRollbackTargets, ""},
		{"default when retention is set without it", "retention: {minAge: 1h}\n", 3, ""},
		{"explicit", "retention: {rollbackTargets: 10}\n", 10, ""},
		{"explicit zero keeps none", "retention: {rollbackTargets: 0}\n", 0, ""},
		{"null is not set", "retention: {rollbackTargets: ~}\n", 3, ""},
		{"the maximum", "retention: {rollbackTargets: 100}\n", 100, ""},
		{"negative", "retention:\n  rollbackTargets: -1\n", 0, "line 2: retention.rollbackTargets: must be 0 to 100, got -1"},
		{"too many", "retention: {rollbackTargets: 101}\n", 0, "line 1: retention.rollbackTargets: must be 0 to 100, got 101"},
		{"not a number", "retention: {rollbackTargets: three}\n", 0, "retention.rollbackTargets"},
		{"misspelled", "retention: {rollbackTarget: 3}\n", 0, `retention.rollbackTarget: unknown field (did you mean "rollbackTargets"?)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(strings.NewReader(tt.doc))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Retention.RollbackTargets != tt.want {
				t.Fatalf("rollbackTargets = %d, want %d", cfg.Retention.RollbackTargets, tt.want)
			}
		})
	}
}
