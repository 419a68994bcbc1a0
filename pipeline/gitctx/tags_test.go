package gitctx

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 2, 4, 23, 30, 0, 0, time.FixedZone("X", -3*3600)) // 2026-02-05 02:30 UTC

func names(tags []Tag) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.Name
	}
	return out
}

func TestSanitizeBranch(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("abcdefghij/", 20) // 220 characters
	tests := []struct {
		name, branch string
		max          int
		want         string
		wantErr      string
	}{
		{"design example", "feature/Add_New-Feature#12", 120, "feature-add-new-feature-12", ""},
		{"main", "main", 120, "main", ""},
		{"dots kept", "release/1.2.x", 120, "release-1.2.x", ""},
		{"runs collapse", "a//b__c--d  e", 120, "a-b-c-d-e", ""},
		{"trim dashes and dots", "-.-feat.-", 120, "feat", ""},
		{"unicode", "fix/Ünïcödé-ブランチ", 120, "fix-n-c-d", ""},
		{"kelvin sign lowercases to k", "\u212Aelvin", 120, "kelvin", ""},
		{"emoji only word", "🚀/launch", 120, "launch", ""},
		{"invalid utf-8", "a\xffb", 120, "a-b", ""},
		{"long cut", long, 120, strings.TrimSuffix(strings.Repeat("abcdefghij-", 11)[:120], "-"), ""},
		{"cut then re-trim", "abcdefghi-klm", 10, "abcdefghi", ""},
		{"cut then re-trim dot", "abcdefgh.xyz", 9, "abcdefgh", ""},
		{"slashes only", "///", 120, "", `branch "///" gives an empty tag`},
		{"dots only", "...", 120, "", `branch "..." gives an empty tag`},
		{"unicode only", "日本語", 120, "", `branch "日本語" gives an empty tag`},
		{"empty", "", 120, "", `branch "" gives an empty tag`},
		{"no room", "main", 0, "", `branch "main" gives an empty tag`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := SanitizeBranch(tt.branch, tt.max)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("SanitizeBranch(%q) error = %v, want %q", tt.branch, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("SanitizeBranch(%q, %d) = %q, %v; want %q", tt.branch, tt.max, got, err, tt.want)
			}
			if len(got) > tt.max || !isSanitized(got) {
				t.Errorf("SanitizeBranch(%q) = %q: too long or not sanitized", tt.branch, got)
			}
		})
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	def := []string{"sha-{sha7}", "pr-{pr}-{sha7}", "{branch}-{sha7}"}
	tests := []struct {
		name                string
		c                   Context
		immutable, floating []string
		want                []Tag
		wantErr             string
	}{
		{
			name:      "design example branch",
			c:         Context{Revision: headSHA, Branch: "feature/Add_New-Feature#12"},
			immutable: def, floating: []string{"stable"},
			want: []Tag{
				{"sha-abc1234", ClassSHA, true},
				{"feature-add-new-feature-12-abc1234", ClassBranch, true},
				{"stable", ClassFloating, false},
			},
		},
		{
			name:      "pull request",
			c:         Context{Revision: headSHA, PR: 123, Branch: "topic"},
			immutable: []string{"pr-{pr}-{sha7}", "sha-{sha7}"},
			want:      []Tag{{"pr-123-abc1234", ClassPR, true}, {"sha-abc1234", ClassSHA, true}},
		},
		{
			name:      "release v1.2.3",
			c:         Context{Revision: pushSHA, GitTag: "v1.2.3"},
			immutable: def, floating: []string{"stable"},
			want: []Tag{
				{"sha-0123456", ClassSHA, true},
				{"1.2.3", ClassSemver, true},
				{"1.2", ClassSemver, false},
				{"1", ClassSemver, false},
				{"stable", ClassFloating, false},
			},
		},
		{
			name:      "prerelease gives only its version",
			c:         Context{Revision: pushSHA, GitTag: "v1.2.3-rc.1"},
			immutable: []string{"sha-{sha7}"},
			want:      []Tag{{"sha-0123456", ClassSHA, true}, {"1.2.3-rc.1", ClassSemver, true}},
		},
		{
			name:      "{version} and the automatic semver dedupe",
			c:         Context{Revision: pushSHA, GitTag: "1.2.3+build.7"},
			immutable: []string{"{version}", "v{version}"},
			want: []Tag{
				{"1.2.3", ClassSemver, true},
				{"v1.2.3", ClassSemver, true},
				{"1.2", ClassSemver, false},
				{"1", ClassSemver, false},
			},
		},
		{
			name:      "non-semver git tag gives no semver tags",
			c:         Context{Revision: pushSHA, GitTag: "release-2026"},
			immutable: []string{"{version}", "sha-{sha7}"},
			want:      []Tag{{"sha-0123456", ClassSHA, true}},
		},
		{
			name:      "nightly, run, full sha",
			c:         Context{Revision: pushSHA, RunID: "9876543210"},
			immutable: []string{"nightly-{date}", "run-{run}", "sha-{sha}", "{sha}"},
			want: []Tag{
				{"nightly-2026-02-05", ClassNightly, true},
				{"run-9876543210", ClassRun, true},
				{"sha-" + pushSHA, ClassSHA, true},
				{pushSHA, ClassSHA, true},
			},
		},
		{
			name:      "non-numeric run id skips run-{run}",
			c:         Context{Revision: pushSHA, RunID: "6a1b3c5d-0000-4000-8000-000000000000"},
			immutable: []string{"run-{run}"},
			want:      nil,
		},
		{
			name:      "nothing to fill",
			c:         Context{},
			immutable: def,
			want:      nil,
		},
		{
			name:      "branch main twice is one tag",
			c:         Context{Revision: pushSHA, Branch: "main"},
			immutable: []string{"{branch}-{sha7}", "{branch}-{sha7}"}, floating: []string{"{branch}", "main", "edge"},
			want: []Tag{
				{"main-0123456", ClassBranch, true},
				{"main", ClassFloating, false},
				{"edge", ClassFloating, false},
			},
		},
		{
			name:      "floating templates",
			c:         Context{Revision: pushSHA, PR: 5},
			floating:  []string{"pr-{pr}", "{branch}"},
			want:      []Tag{{"pr-5", ClassFloating, false}},
			immutable: nil,
		},
		{
			name:      "long branch fits 128 with its suffix",
			c:         Context{Revision: pushSHA, Branch: strings.Repeat("x", 300)},
			immutable: []string{"{branch}-{sha}"},
			want:      []Tag{{strings.Repeat("x", 87) + "-" + pushSHA, ClassBranch, true}},
		},
		{
			name:      "branch that sanitizes to nothing",
			c:         Context{Revision: pushSHA, Branch: "///"},
			immutable: def,
			wantErr:   `branch "///" gives an empty tag`,
		},
		{
			name:      "branch that reads as a pr tag",
			c:         Context{Revision: pushSHA, Branch: "PR-7"},
			immutable: def,
			wantErr:   `tag "pr-7-0123456" from {branch}-{sha7} reads back as class pr, not branch (branch "PR-7")`,
		},
		{
			name:      "branch that reads as semver",
			c:         Context{Revision: headSHA, Branch: "1.2.3"},
			immutable: def,
			wantErr:   "reads back as class semver",
		},
		{
			name:      "unknown placeholder",
			c:         Context{Revision: pushSHA},
			immutable: []string{"sha-{commit}"},
			wantErr:   "unknown placeholder {commit}",
		},
		{
			name:      "immutable form outside the grammar",
			c:         Context{Revision: pushSHA},
			immutable: []string{"build-{sha7}"},
			wantErr:   `immutable tag template "build-{sha7}": not a form`,
		},
		{
			name:     "floating name that reads as semver",
			c:        Context{Revision: pushSHA},
			floating: []string{"1.2"},
			wantErr:  `floating tag "1.2" reads as class semver`,
		},
		{
			name:     "floating template whose output reads as semver",
			c:        Context{Revision: pushSHA, Branch: "2026"},
			floating: []string{"{branch}"},
			wantErr:  "reads back as class semver",
		},
		{
			name:      "run id too long for a tag",
			c:         Context{Revision: pushSHA, RunID: strings.Repeat("9", 129)},
			immutable: []string{"run-{run}"},
			wantErr:   "not a valid tag",
		},
		{
			name:      "invalid revision",
			c:         Context{Revision: "abc1234"},
			immutable: def,
			wantErr:   "revision: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Tags(tt.c, tt.immutable, tt.floating, testNow)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Tags() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Tags() error = %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Tags() =\n %v\nwant\n %v", got, tt.want)
			}
			for _, tag := range got {
				if !tagRE.MatchString(tag.Name) {
					t.Errorf("tag %q does not match %s", tag.Name, tagRE)
				}
			}
		})
	}
}

func TestLatestFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		gitTag   string
		existing []string
		want     bool
	}{
		{"first release", "v1.0.0", nil, true},
		{"higher than all", "v1.3.0", []string{"1.2.9", "v1.2.10", "latest", "sha-abc1234", "1.2"}, true},
		{"re-run of the same", "v1.3.0", []string{"1.3.0"}, true},
		{"a newer release exists", "v1.2.4", []string{"1.3.0", "1.2.3"}, false},
		{"backport", "v1.2.5", []string{"v2.0.0"}, false},
		{"a newer prerelease does not count", "v1.2.4", []string{"1.3.0-rc.1"}, true},
		{"prerelease is never latest", "v2.0.0-rc.1", nil, false},
		{"not semver", "release-7", nil, false},
		{"no tag", "", nil, false},
		{"shorthand is not a release", "v2", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := LatestFor(tt.gitTag, tt.existing); got != tt.want {
				t.Errorf("LatestFor(%q, %v) = %v, want %v", tt.gitTag, tt.existing, got, tt.want)
			}
		})
	}
}

func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct{ tmpl, wantErr string }{
		{"sha-{sha7}", ""},
		{"{branch}-{sha7}", ""},
		{"stable", ""},
		{"_x.y-z", ""},
		{"pr-{pr}-{run}-{date}-{version}-{sha}", ""},
		{"", "empty tag template"},
		{"sha-{SHA7}", "unknown placeholder {SHA7}"},
		{"sha-{}", "unknown placeholder {}"},
		{"sha-{sha7", "unclosed '{'"},
		{"sha-sha7}", "'}' without '{'"},
		{"{sha7}-{sha7}", "used twice"},
		{"a/b", `character '/'`},
		{"a b", `character ' '`},
		{"-x", "must start with"},
		{".x", "must start with"},
		{strings.Repeat("a", 129), "longer than 128"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			err := CheckTemplate(tt.tmpl)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("CheckTemplate(%q) = %v, want %q", tt.tmpl, err, tt.wantErr)
			}
		})
	}
}

func TestImmutableClass(t *testing.T) {
	t.Parallel()
	for _, f := range immutableForms {
		if got, err := ImmutableClass(f.tmpl); err != nil || got != f.class {
			t.Errorf("ImmutableClass(%q) = %q, %v; want %q", f.tmpl, got, err, f.class)
		}
	}
	for _, tmpl := range []string{"stable", "{branch}", "pr-{pr}", "x-{sha7}", "{run}-{sha7}", "sha-{bogus}"} {
		if _, err := ImmutableClass(tmpl); err == nil {
			t.Errorf("ImmutableClass(%q) = nil error", tmpl)
		}
	}
}

func TestCheckTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		immutable, floating []string
		wantErr             string
	}{
		{"design defaults", []string{"sha-{sha7}", "pr-{pr}-{sha7}", "{branch}-{sha7}"}, []string{"stable"}, ""},
		{"floating templates", nil, []string{"{branch}", "pr-{pr}", "latest", "dev"}, ""},
		{"bad immutable", []string{"{branch}"}, nil, "immutable tag template"},
		{"bad floating syntax", nil, []string{"st able"}, "floating tag: tag template"},
		{"floating reads as semver", nil, []string{"2026"}, "reads as class semver"},
		{"floating reads as sha", nil, []string{"sha-abcdef0"}, "reads as class sha"},
		{"floating reads as nightly", nil, []string{"nightly-2026-01-01"}, "reads as class nightly"},
		{"floating referrers fallback", nil, []string{"sha256-" + strings.Repeat("a", 64)}, "referrers fallback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckTemplates(tt.immutable, tt.floating)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("CheckTemplates() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
