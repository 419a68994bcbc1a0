package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestManyUnknownKeys: a file with 50,000 unknown keys is reported with
// its first MaxShown problems and a count of the rest, not one 3 MB line;
// every problem stays in the Errors.
func TestManyUnknownKeys(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 50_000 {
		fmt.Fprintf(&b, "unknownKey%d: 1\n", i)
	}
	_, err := Load(strings.NewReader(b.String()))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 50_000 {
		t.Fatalf("want 50000 problems, got %d (%v)", len(errs), err != nil)
	}
	msg := err.Error()
	if len(msg) > 16<<10 || strings.Count(msg, "\n") != MaxShown || !strings.HasSuffix(msg, "and 49950 more problems") {
		t.Fatalf("message of %d bytes, %d lines, ends %q", len(msg), strings.Count(msg, "\n")+1, msg[max(0, len(msg)-60):])
	}
	if !strings.HasPrefix(msg, "line 1: unknownKey0: unknown field") {
		t.Fatalf("first problem: %q", msg[:min(len(msg), 80)])
	}
}
