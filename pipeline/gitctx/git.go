package gitctx

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
)

// FromGit reads the context of the git checkout in dir with the git CLI:
// the revision (git rev-parse HEAD), the branch (git rev-parse
// --abbrev-ref HEAD; none when detached), the git tag on HEAD (git tag
// --points-at HEAD, like git describe --tags --exact-match but choosing the
// highest semver release, then the highest semver, then the first name when
// several tags point there) and the origin remote without credentials.
func FromGit(ctx context.Context, dir string) (Context, error) {
	rev, err := git(ctx, dir, "rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return Context{}, fmt.Errorf("reading git HEAD in %s: %w", dir, err)
	}
	if err := checkRevision(rev); err != nil {
		return Context{}, fmt.Errorf("reading git HEAD in %s: %w", dir, err)
	}
	c := Context{Provider: ProviderGit, Revision: strings.ToLower(rev), RevisionSource: "git HEAD"}
	branch, err := git(ctx, dir, "rev-parse", "--abbrev-ref", "HEAD")
	if err != nil {
		return Context{}, fmt.Errorf("reading git branch in %s: %w", dir, err)
	}
	if branch != "HEAD" { // "HEAD" means detached
		c.Branch = branch
	}
	tags, err := git(ctx, dir, "tag", "--points-at", "HEAD")
	if err != nil {
		return Context{}, fmt.Errorf("reading git tags in %s: %w", dir, err)
	}
	c.GitTag = pickGitTag(strings.Fields(tags))
	if origin, err := git(ctx, dir, "config", "--get", "remote.origin.url"); err == nil {
		c.Source = SourceURL(origin)
	} // no origin: no source
	return c, nil
}

// git runs git in dir and returns its trimmed stdout; errors carry stderr.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, msg)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// pickGitTag chooses among the tags on one commit: the highest semver
// release, else the highest semver, else the first name.
func pickGitTag(tags []string) string {
	best, bestV := "", ""
	for _, t := range tags {
		v, ok := gitTagSemver(t)
		if !ok {
			continue
		}
		rel := semver.Prerelease(v) == ""
		bestRel := bestV != "" && semver.Prerelease(bestV) == ""
		if bestV == "" || (rel && !bestRel) || (rel == bestRel && semver.Compare(v, bestV) > 0) {
			best, bestV = t, v
		}
	}
	if best != "" {
		return best
	}
	if len(tags) > 0 {
		return slices.Min(tags)
	}
	return ""
}

// scpLike matches git's scp-like remote syntax: [user@]host:path.
var scpLike = regexp.MustCompile(`^(?:[^@/]+@)?([A-Za-z0-9.-]+):([^/\\].*)$`)

// SourceURL turns a git remote into a URL fit for the source label: https
// for ssh and scp-like remotes (git@github.com:acme/app.git gives
// https://github.com/acme/app), with user, password, query, fragment and a
// trailing ".git" removed. A remote it cannot read as a network URL (a
// local path, a file:// URL, garbage) gives "": a label never carries what
// might be a credential.
func SourceURL(remote string) string {
	remote = strings.TrimSpace(remote)
	if remote == "" {
		return ""
	}
	if !strings.Contains(remote, "://") {
		m := scpLike.FindStringSubmatch(remote)
		if m == nil || len(m[1]) < 2 {
			return ""
		}
		remote = "ssh://" + m[1] + "/" + m[2]
	}
	u, err := url.Parse(remote)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	switch u.Scheme {
	case "https", "http":
	case "ssh", "git", "git+ssh", "ssh+git":
		u.Scheme = "https"
		u.Host = u.Hostname() // an ssh port means nothing over https
		if strings.Contains(u.Host, ":") {
			u.Host = "[" + u.Host + "]"
		}
	default:
		return ""
	}
	u.User = nil
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	u.RawPath = ""
	return u.String()
}
