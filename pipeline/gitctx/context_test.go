package gitctx

import (
	"path/filepath"
	"strings"
	"testing"
)

const (
	headSHA  = "abc12345def67890abcdef0123456789abcdef01" // PR head
	mergeSHA = "9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6" // GitHub's synthetic merge commit
	pushSHA  = "0123456789abcdef0123456789abcdef01234567"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	ghPR := filepath.Join("testdata", "github", "pull_request.json")
	tests := []struct {
		name    string
		env     map[string]string
		want    Context
		wantErr string // substring; "" for success
	}{
		{
			name: "github pull_request: head SHA, not the merge commit",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": ghPR,
				"GITHUB_SHA": mergeSHA, "GITHUB_REF": "refs/pull/123/merge", "GITHUB_REF_NAME": "123/merge",
				"GITHUB_REF_TYPE": "branch", "GITHUB_HEAD_REF": "feature/Add_New-Feature#12",
				"GITHUB_RUN_ID": "9876543210", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/app",
			},
			want: Context{
				Revision:       headSHA,
				RevisionSource: "pull request head (pull_request.head.sha), not the merge commit in GITHUB_SHA",
				Branch:         "feature/Add_New-Feature#12", PR: 123, RunID: "9876543210",
				Source: "https://github.com/acme/app", Provider: ProviderGitHub,
			},
		},
		{
			name: "github pull_request_target reads the event too",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": ghPR,
				"GITHUB_SHA": "1111111111222222222233333333334444444444", "GITHUB_REPOSITORY": "acme/app",
			},
			want: Context{
				Revision:       headSHA,
				RevisionSource: "pull request head (pull_request.head.sha), not the merge commit in GITHUB_SHA",
				Branch:         "feature/Add_New-Feature#12", PR: 123,
				Source: "https://github.com/acme/app", Provider: ProviderGitHub,
			},
		},
		{
			name: "github push to tag v1.2.3",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": pushSHA,
				"GITHUB_REF": "refs/tags/v1.2.3", "GITHUB_REF_NAME": "v1.2.3", "GITHUB_REF_TYPE": "tag",
				"GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://github.example.com", "GITHUB_REPOSITORY": "acme/app",
			},
			want: Context{
				Revision: pushSHA, RevisionSource: "GITHUB_SHA", GitTag: "v1.2.3", RunID: "42",
				Source: "https://github.example.com/acme/app", Provider: ProviderGitHub,
			},
		},
		{
			name: "github push to branch",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": strings.ToUpper(pushSHA),
				"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch",
				"GITHUB_REPOSITORY": "acme/app",
			},
			want: Context{
				Revision: pushSHA, RevisionSource: "GITHUB_SHA", Branch: "main",
				Source: "https://github.com/acme/app", Provider: ProviderGitHub,
			},
		},
		{
			name: "github without GITHUB_REF_TYPE falls back to GITHUB_REF",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_SHA": pushSHA,
				"GITHUB_REF": "refs/heads/release/1.x",
			},
			want: Context{Revision: pushSHA, RevisionSource: "GITHUB_SHA", Branch: "release/1.x", Provider: ProviderGitHub},
		},
		{
			name: "github malformed event file names the file",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
				"GITHUB_EVENT_PATH": filepath.Join("testdata", "github", "malformed.json"), "GITHUB_SHA": mergeSHA,
			},
			wantErr: filepath.Join("testdata", "github", "malformed.json"),
		},
		{
			name: "github event without head sha",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
				"GITHUB_EVENT_PATH": filepath.Join("testdata", "github", "no_head.json"),
			},
			wantErr: "no pull_request.head.sha",
		},
		{
			name: "github event with a bad head sha",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
				"GITHUB_EVENT_PATH": filepath.Join("testdata", "github", "bad_sha.json"),
			},
			wantErr: "pull_request.head.sha",
		},
		{
			name: "github missing event file",
			env: map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
				"GITHUB_EVENT_PATH": filepath.Join("testdata", "github", "nope.json"),
			},
			wantErr: "nope.json",
		},
		{
			name:    "github pull_request without GITHUB_EVENT_PATH",
			env:     map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": mergeSHA},
			wantErr: "GITHUB_EVENT_PATH",
		},
		{
			name:    "github bad GITHUB_SHA names the variable",
			env:     map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": "abc123"},
			wantErr: "GITHUB_SHA",
		},
		{
			name: "circleci branch with pull request URL",
			env: map[string]string{
				"CIRCLECI": "true", "CIRCLE_SHA1": pushSHA, "CIRCLE_BRANCH": "feature/x",
				"CIRCLE_PULL_REQUEST": "https://github.com/acme/app/pull/77", "CIRCLE_BUILD_NUM": "1234",
				"CIRCLE_WORKFLOW_ID":    "6a1b3c5d-0000-4000-8000-000000000000",
				"CIRCLE_REPOSITORY_URL": "git@github.com:acme/app.git",
			},
			want: Context{
				Revision: pushSHA, RevisionSource: "CIRCLE_SHA1", Branch: "feature/x", PR: 77, RunID: "1234",
				Source: "https://github.com/acme/app", Provider: ProviderCircleCI,
			},
		},
		{
			name: "circleci forked PR number wins, workflow id as run",
			env: map[string]string{
				"CIRCLECI": "true", "CIRCLE_SHA1": pushSHA, "CIRCLE_BRANCH": "pull/78",
				"CIRCLE_PR_NUMBER": "78", "CIRCLE_PULL_REQUEST": "https://github.com/acme/app/pull/78",
				"CIRCLE_WORKFLOW_ID": "6a1b3c5d-0000-4000-8000-000000000000",
			},
			want: Context{
				Revision: pushSHA, RevisionSource: "CIRCLE_SHA1", Branch: "pull/78", PR: 78,
				RunID: "6a1b3c5d-0000-4000-8000-000000000000", Provider: ProviderCircleCI,
			},
		},
		{
			name: "circleci tag",
			env: map[string]string{
				"CIRCLECI": "true", "CIRCLE_SHA1": pushSHA, "CIRCLE_TAG": "v2.0.0", "CIRCLE_BUILD_NUM": "5",
				"CIRCLE_REPOSITORY_URL": "https://x-token:secret@github.com/acme/app.git",
			},
			want: Context{
				Revision: pushSHA, RevisionSource: "CIRCLE_SHA1", GitTag: "v2.0.0", RunID: "5",
				Source: "https://github.com/acme/app", Provider: ProviderCircleCI,
			},
		},
		{
			name:    "circleci bad pull request URL",
			env:     map[string]string{"CIRCLECI": "true", "CIRCLE_PULL_REQUEST": "https://github.com/acme/app/pulls"},
			wantErr: "CIRCLE_PULL_REQUEST",
		},
		{
			name:    "circleci bad PR number",
			env:     map[string]string{"CIRCLECI": "true", "CIRCLE_PR_NUMBER": "seven"},
			wantErr: "CIRCLE_PR_NUMBER",
		},
		{
			name: "gitlab merged-results pipeline: source branch head, not the merge commit",
			env: map[string]string{
				"GITLAB_CI": "true", "CI_COMMIT_SHA": mergeSHA, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": headSHA,
				"CI_MERGE_REQUEST_IID": "12", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feat/y",
				"CI_COMMIT_REF_NAME": "feat/y", "CI_PIPELINE_ID": "555", "CI_PROJECT_URL": "https://gitlab.com/acme/app",
			},
			want: Context{
				Revision:       headSHA,
				RevisionSource: "merge request head (CI_MERGE_REQUEST_SOURCE_BRANCH_SHA), not the merged-results commit in CI_COMMIT_SHA",
				Branch:         "feat/y", PR: 12, RunID: "555", Source: "https://gitlab.com/acme/app", Provider: ProviderGitLab,
			},
		},
		{
			name: "gitlab branch pipeline",
			env: map[string]string{
				"GITLAB_CI": "true", "CI_COMMIT_SHA": pushSHA, "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main",
				"CI_PIPELINE_ID": "556", "CI_PROJECT_URL": "https://gitlab.example.com/group/sub/app",
			},
			want: Context{
				Revision: pushSHA, RevisionSource: "CI_COMMIT_SHA", Branch: "main", RunID: "556",
				Source: "https://gitlab.example.com/group/sub/app", Provider: ProviderGitLab,
			},
		},
		{
			name: "gitlab tag pipeline has no branch",
			env: map[string]string{
				"GITLAB_CI": "true", "CI_COMMIT_SHA": pushSHA, "CI_COMMIT_TAG": "v1.2.3", "CI_COMMIT_REF_NAME": "v1.2.3",
				"CI_PIPELINE_ID": "557",
			},
			want: Context{Revision: pushSHA, RevisionSource: "CI_COMMIT_SHA", GitTag: "v1.2.3", RunID: "557", Provider: ProviderGitLab},
		},
		{
			name:    "gitlab bad MR iid",
			env:     map[string]string{"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "-3"},
			wantErr: "CI_MERGE_REQUEST_IID",
		},
		{
			name: "no CI",
			env:  map[string]string{"CI": "true", "GITHUB_ACTIONS": "false"},
			want: Context{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromEnv(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromEnv() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromEnv() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("FromEnv() =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestFromEnvPullRequestTags(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": mergeSHA,
		"GITHUB_EVENT_PATH": filepath.Join("testdata", "github", "pull_request.json"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	tags, err := Tags(c, []string{"pr-{pr}-{sha7}", "sha-{sha7}", "{branch}-{sha7}"}, nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pr-123-abc1234", "sha-abc1234", "feature-add-new-feature-12-abc1234"}
	if got := names(tags); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tags = %v, want %v", got, want)
	}
	if l := Labels(c, testNow); l[LabelRevision] != headSHA {
		t.Errorf("revision label = %q, want the PR head %q", l[LabelRevision], headSHA)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		c       Context
		wantErr string
	}{
		{"empty", Context{}, ""},
		{"sha1", Context{Revision: pushSHA}, ""},
		{"sha1 upper", Context{Revision: strings.ToUpper(pushSHA)}, ""},
		{"sha256", Context{Revision: strings.Repeat("ab", 32)}, ""},
		{"short", Context{Revision: "abc1234"}, "revision"},
		{"41", Context{Revision: pushSHA + "0"}, "revision"},
		{"not hex", Context{Revision: strings.Repeat("g", 40)}, "revision"},
		{"negative pr", Context{PR: -1}, "pr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.c.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want prefix %q", err, tt.wantErr)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	detected := Context{
		Revision: headSHA, RevisionSource: "GITHUB_SHA", Branch: "main", PR: 0, RunID: "1",
		Source: "https://github.com/acme/app", Provider: ProviderGitHub,
	}
	tests := []struct {
		name  string
		base  Context
		flags Context
		want  Context
	}{
		{"no flags", detected, Context{}, detected},
		{
			"revision and pr from flags",
			detected, Context{Revision: pushSHA, PR: 9},
			Context{
				Revision: pushSHA, RevisionSource: "flag", Branch: "main", PR: 9, RunID: "1",
				Source: "https://github.com/acme/app", Provider: ProviderGitHub,
			},
		},
		{
			"every field",
			detected, Context{Branch: "dev", GitTag: "v1.0.0", RunID: "2", Source: "https://example.com/x", Provider: "custom"},
			Context{
				Revision: headSHA, RevisionSource: "GITHUB_SHA", Branch: "dev", GitTag: "v1.0.0", RunID: "2",
				Source: "https://example.com/x", Provider: "custom",
			},
		},
		{
			"flags alone",
			Context{}, Context{Revision: pushSHA, RevisionSource: "--revision"},
			Context{Revision: pushSHA, RevisionSource: "--revision", Provider: ProviderFlags},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.base.Override(tt.flags); got != tt.want {
				t.Errorf("Override() =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}
