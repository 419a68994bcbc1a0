package retention

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestStorageClass(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		tag      string
		siblings []string
		want     string
	}{
		{"7712345678", nil, "run"},
		{"1", []string{"1", "1.2.3", "1.2"}, "semver"},
		{"1", []string{"1", "v1.4.0"}, "semver"},
		{"1", []string{"1", "2.0.0"}, "run"},
		{"12", []string{"12", "1.2.3"}, "run"},
		{"1.2.3", nil, "semver"},
		{"run-42", nil, "run"},
		{"pr-7-abcdef0", nil, "pr"},
		{"stable", nil, "floating"},
	} {
		if got := storageClass(tt.tag, tt.siblings, []string{"stable"}); got != tt.want {
			t.Errorf("storageClass(%q, %q) = %q, want %q", tt.tag, tt.siblings, got, tt.want)
		}
	}
}

// TestStorageByClassRunIDs: bare numeric run-id tags are reported as run,
// not semver.
func TestStorageByClassRunIDs(t *testing.T) {
	t.Parallel()
	now := time.Now()
	b := newMem()
	b.tag("7712345678", b.add("run", types.OCIManifestSchema1, ago(now, day, AgeFromLabel)), Age{})
	rel := b.add("release", types.OCIManifestSchema1, ago(now, day, AgeFromLabel))
	b.tag("1.2.3", rel, Age{})
	b.tag("1", rel, Age{})
	f, _ := b.Facts(context.Background())
	p := Evaluate(now, mustPolicy(t, matrix()), f, Inputs{})
	if got := p.Summary.StorageByClass; got["run"] != 1500 || got["semver"] != 1500 {
		t.Fatalf("storage by class %v, want run 1500 and semver 1500 bytes", got)
	}
}
