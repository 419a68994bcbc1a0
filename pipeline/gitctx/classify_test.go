package gitctx

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// tagRE is the tag grammar every output must match (DESIGN §4).
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func TestClassify(t *testing.T) {
	t.Parallel()
	floating := []string{"stable", "dev", "edge-{branch}"}
	tests := []struct {
		tag  string
		want Class // "" for not classified
	}{
		{"pr-123-abc1234", ClassPR},
		{"pr-1-" + pushSHA, ClassPR},
		{"pr-x-abc1234", ClassBranch}, // "pr-x" is a sanitized branch
		{"pr-123-abc123", ""},
		{"sha-abc1234", ClassSHA},
		{"sha-" + pushSHA, ClassSHA},
		{pushSHA, ClassSHA},
		{"sha-ABC1234", ""},
		{"nightly-2026-02-04", ClassNightly},
		{"nightly-2026-02-30", ""},
		{"nightly-2026-2-4", ""},
		{"1.2.3", ClassSemver},
		{"v1.2.3", ClassSemver},
		{"1.2.3-rc.1", ClassSemver},
		{"1.2", ClassSemver},
		{"v1", ClassSemver},
		{"01.2.3", ""},
		{"1", ClassSemver},
		{"run-9876543210", ClassRun},
		{"latest", ClassFloating},
		{"stable", ClassFloating},
		{"dev", ClassFloating},
		{"edge-main", ClassFloating},
		{"feature-add-new-feature-12-abc1234", ClassBranch},
		{"main-abc1234", ClassBranch},
		{"release-1.2.x-abc1234", ClassBranch},
		{"Main-abc1234", ""},
		{"a--b-abc1234", ""},
		{"-main-abc1234", ""},
		{"main.-abc1234", ""},
		{"sha256-" + strings.Repeat("ab", 32), ""},
		{"sha256-abc", ""},
		{"cache", ""},
		{"", ""},
		{strings.Repeat("1", 129), ""},
		{"a/b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			t.Parallel()
			got, ok := Classify(tt.tag, floating)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("Classify(%q) = %q, %v; want %q", tt.tag, got, ok, tt.want)
			}
		})
	}
}

func TestNightlyDate(t *testing.T) {
	t.Parallel()
	got, ok := NightlyDate("nightly-2026-02-04")
	if want := time.Date(2026, 2, 4, 0, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("NightlyDate() = %v, %v; want %v", got, ok, want)
	}
	for _, tag := range []string{"nightly-2026-13-01", "nightly-", "nightly-2026-02-04-x", "2026-02-04", "nightly-+026-02-04"} {
		if _, ok := NightlyDate(tag); ok {
			t.Errorf("NightlyDate(%q) ok", tag)
		}
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Context
		want []string
	}{
		{
			name: "release",
			c: Context{
				Revision: strings.ToUpper(pushSHA), GitTag: "v1.2.3", RunID: "42",
				Source: "https://user:token@github.com/acme/app.git",
			},
			want: []string{
				"dev.slipway.run-id=42",
				"org.opencontainers.image.created=2026-02-05T02:30:00Z",
				"org.opencontainers.image.revision=" + pushSHA,
				"org.opencontainers.image.source=https://github.com/acme/app",
				"org.opencontainers.image.version=1.2.3",
			},
		},
		{
			name: "branch build has no version",
			c:    Context{Revision: pushSHA, Branch: "main", GitTag: "nightly"},
			want: []string{
				"org.opencontainers.image.created=2026-02-05T02:30:00Z",
				"org.opencontainers.image.revision=" + pushSHA,
			},
		},
		{
			name: "empty context",
			want: []string{"org.opencontainers.image.created=2026-02-05T02:30:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := LabelList(Labels(tt.c, testNow))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("labels =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if l := Labels(Context{}, time.Time{}); len(l) != 0 {
		t.Errorf("Labels of nothing = %v", l)
	}
}

func TestLabelListSortsByKey(t *testing.T) {
	t.Parallel()
	got := LabelList(map[string]string{"a.b": "1", "a": "2"})
	if strings.Join(got, " ") != "a=2 a.b=1" {
		t.Errorf("LabelList() = %v", got)
	}
}
