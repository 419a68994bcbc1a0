package gitctx

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Providers: where a Context came from.
const (
	ProviderGitHub   = "github-actions"
	ProviderCircleCI = "circleci"
	ProviderGitLab   = "gitlab-ci"
	ProviderGit      = "git"
	ProviderFlags    = "flags"
)

// Context is what a run knows about the commit it builds.
type Context struct {
	// Revision is the full commit SHA (40 or 64 hex) the image is built from.
	Revision string
	// RevisionSource says which commit Revision is, for people: "GITHUB_SHA",
	// "pull request head (...), not the merge commit ...", "git HEAD", "flag".
	RevisionSource string
	// Branch as named in git (unsanitized); on a pull request its head branch.
	Branch string
	// PR is the pull (merge) request number, 0 when none.
	PR int
	// GitTag is the git tag being built, e.g. "v1.2.3".
	GitTag string
	// RunID identifies the CI run (GITHUB_RUN_ID, CI_PIPELINE_ID, ...).
	RunID string
	// Source is the repository URL, without credentials.
	Source string
	// Provider is one of the Provider* constants, "" when nothing was detected.
	Provider string
}

// Validate checks the fields that have a grammar; errors name the field.
func (c Context) Validate() error {
	if c.Revision != "" {
		if err := checkRevision(c.Revision); err != nil {
			return fmt.Errorf("revision: %w", err)
		}
	}
	if c.PR < 0 {
		return fmt.Errorf("pr: %d is negative", c.PR)
	}
	return nil
}

func checkRevision(rev string) error {
	if (len(rev) == 40 || len(rev) == 64) && isLowerHex(strings.ToLower(rev)) {
		return nil
	}
	return fmt.Errorf("%q is not a full commit SHA (40 or 64 hex characters)", rev)
}

// Override returns c with every non-zero field of o replacing c's: explicit
// flags over detected values, field by field. A zero field of o keeps c's
// value (flags cannot clear one). A revision from o takes o.RevisionSource,
// or "flag". The provider stays c's unless o names one; an o with values
// over an undetected c gives ProviderFlags.
func (c Context) Override(o Context) Context {
	out := c
	if o.Revision != "" {
		out.Revision = o.Revision
		out.RevisionSource = cmp.Or(o.RevisionSource, "flag")
	}
	if o.Branch != "" {
		out.Branch = o.Branch
	}
	if o.PR != 0 {
		out.PR = o.PR
	}
	out.GitTag = cmp.Or(o.GitTag, out.GitTag)
	out.RunID = cmp.Or(o.RunID, out.RunID)
	out.Source = cmp.Or(o.Source, out.Source)
	switch {
	case o.Provider != "":
		out.Provider = o.Provider
	case out.Provider == "" && o != Context{}:
		out.Provider = ProviderFlags
	}
	return out
}

// Detect returns the context of the CI in the environment (FromEnv) or,
// when no CI is detected, of the git checkout in dir (FromGit).
func Detect(ctx context.Context, getenv func(string) string, dir string) (Context, error) {
	c, err := FromEnv(getenv)
	if err != nil || c.Provider != "" {
		return c, err
	}
	return FromGit(ctx, dir)
}

// FromEnv detects GitHub Actions (GITHUB_ACTIONS=true), GitLab CI
// (GITLAB_CI=true) or CircleCI (CIRCLECI=true) and reads its context. With
// none of them it returns a zero Context (Provider "") and no error.
//
// On a pull request the revision is the head commit of the pull request,
// not the merge commit CI builds: on GitHub pull_request* events it comes
// from pull_request.head.sha in $GITHUB_EVENT_PATH (GITHUB_SHA is the
// synthetic merge commit, or the base branch for pull_request_target); on
// GitLab merged-results pipelines from CI_MERGE_REQUEST_SOURCE_BRANCH_SHA.
// RevisionSource says which. A missing or malformed event file is an error
// naming the file; a malformed variable is an error naming the variable.
func FromEnv(getenv func(string) string) (Context, error) {
	var (
		c   Context
		err error
	)
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		c, err = fromGitHub(getenv)
	case getenv("GITLAB_CI") == "true":
		c, err = fromGitLab(getenv)
	case getenv("CIRCLECI") == "true":
		c, err = fromCircleCI(getenv)
	default:
		return Context{}, nil
	}
	if err != nil {
		return Context{}, fmt.Errorf("reading %s context: %w", c.Provider, err)
	}
	c.Revision = strings.ToLower(c.Revision)
	return c, nil
}

// revisionVar reads a revision from the variable name; an error names it.
func revisionVar(getenv func(string) string, name string) (string, error) {
	v := getenv(name)
	if v == "" {
		return "", nil
	}
	if err := checkRevision(v); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// numberVar reads a positive number from the variable name.
func numberVar(getenv func(string) string, name string) (int, error) {
	v := getenv(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %q is not a pull request number", name, v)
	}
	return n, nil
}

// githubEvent is the part of a GitHub webhook payload Slipway reads.
type githubEvent struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA string `json:"sha"`
			Ref string `json:"ref"`
		} `json:"head"`
	} `json:"pull_request"`
}

// githubPREvents are the events whose payload has a pull_request and whose
// GITHUB_SHA is not the pull request head.
var githubPREvents = map[string]bool{
	"pull_request":                true,
	"pull_request_target":         true,
	"pull_request_review":         true,
	"pull_request_review_comment": true,
}

func fromGitHub(getenv func(string) string) (Context, error) {
	c := Context{Provider: ProviderGitHub, RunID: getenv("GITHUB_RUN_ID")}
	if repo := getenv("GITHUB_REPOSITORY"); repo != "" {
		server := cmp.Or(getenv("GITHUB_SERVER_URL"), "https://github.com")
		c.Source = SourceURL(strings.TrimSuffix(server, "/") + "/" + repo)
	}
	if event := getenv("GITHUB_EVENT_NAME"); githubPREvents[event] {
		path := getenv("GITHUB_EVENT_PATH")
		if path == "" {
			return c, fmt.Errorf("GITHUB_EVENT_PATH is empty on a %s event: cannot find the pull request head commit", event)
		}
		ev, err := readGitHubEvent(path, event)
		if err != nil {
			return c, err
		}
		c.Revision = ev.PullRequest.Head.SHA
		c.RevisionSource = "pull request head (pull_request.head.sha), not the merge commit in GITHUB_SHA"
		c.PR = cmp.Or(ev.PullRequest.Number, ev.Number)
		c.Branch = cmp.Or(ev.PullRequest.Head.Ref, getenv("GITHUB_HEAD_REF"))
		return c, nil
	}
	rev, err := revisionVar(getenv, "GITHUB_SHA")
	if err != nil {
		return c, err
	}
	if rev != "" {
		c.Revision, c.RevisionSource = rev, "GITHUB_SHA"
	}
	refType, refName := getenv("GITHUB_REF_TYPE"), getenv("GITHUB_REF_NAME")
	if refType == "" || refName == "" { // older runners: derive from GITHUB_REF
		ref := getenv("GITHUB_REF")
		if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			refType, refName = "branch", name
		} else if name, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
			refType, refName = "tag", name
		}
	}
	switch refType {
	case "branch":
		c.Branch = refName
	case "tag":
		c.GitTag = refName
	}
	return c, nil
}

func readGitHubEvent(path, event string) (githubEvent, error) {
	var ev githubEvent
	data, err := os.ReadFile(path)
	if err != nil {
		return ev, fmt.Errorf("reading GitHub event file: %w", err)
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return ev, fmt.Errorf("reading GitHub event file %s: %w", path, err)
	}
	if ev.PullRequest == nil || ev.PullRequest.Head.SHA == "" {
		return ev, fmt.Errorf("GitHub event file %s: no pull_request.head.sha in a %s event", path, event)
	}
	if err := checkRevision(ev.PullRequest.Head.SHA); err != nil {
		return ev, fmt.Errorf("GitHub event file %s: pull_request.head.sha: %w", path, err)
	}
	return ev, nil
}

func fromGitLab(getenv func(string) string) (Context, error) {
	c := Context{
		Provider: ProviderGitLab,
		RunID:    getenv("CI_PIPELINE_ID"),
		Source:   SourceURL(getenv("CI_PROJECT_URL")),
		GitTag:   getenv("CI_COMMIT_TAG"),
	}
	head, err := revisionVar(getenv, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
	if err != nil {
		return c, err
	}
	rev, err := revisionVar(getenv, "CI_COMMIT_SHA")
	if err != nil {
		return c, err
	}
	switch {
	case head != "": // merged-results pipeline: CI_COMMIT_SHA is the merge commit
		c.Revision = head
		c.RevisionSource = "merge request head (CI_MERGE_REQUEST_SOURCE_BRANCH_SHA), not the merged-results commit in CI_COMMIT_SHA"
	case rev != "":
		c.Revision, c.RevisionSource = rev, "CI_COMMIT_SHA"
	}
	if c.PR, err = numberVar(getenv, "CI_MERGE_REQUEST_IID"); err != nil {
		return c, err
	}
	c.Branch = cmp.Or(getenv("CI_COMMIT_BRANCH"), getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"))
	if c.Branch == "" && c.GitTag == "" {
		c.Branch = getenv("CI_COMMIT_REF_NAME")
	}
	return c, nil
}

// trailingNumber is the number that ends a pull request URL
// (https://github.com/acme/app/pull/123).
var trailingNumber = regexp.MustCompile(`/([0-9]+)/?$`)

func fromCircleCI(getenv func(string) string) (Context, error) {
	c := Context{
		Provider: ProviderCircleCI,
		Branch:   getenv("CIRCLE_BRANCH"),
		GitTag:   getenv("CIRCLE_TAG"),
		RunID:    cmp.Or(getenv("CIRCLE_BUILD_NUM"), getenv("CIRCLE_WORKFLOW_ID")),
		Source:   SourceURL(getenv("CIRCLE_REPOSITORY_URL")),
	}
	rev, err := revisionVar(getenv, "CIRCLE_SHA1")
	if err != nil {
		return c, err
	}
	if rev != "" {
		c.Revision, c.RevisionSource = rev, "CIRCLE_SHA1"
	}
	if c.PR, err = numberVar(getenv, "CIRCLE_PR_NUMBER"); err != nil {
		return c, err
	}
	if url := getenv("CIRCLE_PULL_REQUEST"); c.PR == 0 && url != "" {
		m := trailingNumber.FindStringSubmatch(url)
		if m == nil {
			return c, fmt.Errorf("CIRCLE_PULL_REQUEST: %q does not end with a pull request number", url)
		}
		if c.PR, err = strconv.Atoi(m[1]); err != nil || c.PR <= 0 {
			return c, fmt.Errorf("CIRCLE_PULL_REQUEST: %q does not end with a pull request number", url)
		}
	}
	return c, nil
}
