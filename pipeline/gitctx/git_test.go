package gitctx

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// gitRepo makes a repository with one commit on branch "feature/x" and
// returns its directory and HEAD.
func gitRepo(t *testing.T) (dir, head string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(),
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "feature/x")
	if err := os.WriteFile(dir+"/f", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("add", "f")
	run("commit", "-q", "-m", "first")
	return dir, run("rev-parse", "HEAD")
}

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestFromGit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("branch, no tag, no origin", func(t *testing.T) {
		t.Parallel()
		dir, head := gitRepo(t)
		got, err := FromGit(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		want := Context{Revision: head, RevisionSource: "git HEAD", Branch: "feature/x", Provider: ProviderGit}
		if got != want {
			t.Errorf("FromGit() = %+v, want %+v", got, want)
		}
	})

	t.Run("tags and origin with credentials", func(t *testing.T) {
		t.Parallel()
		dir, head := gitRepo(t)
		gitIn(t, dir, "tag", "v1.2.3-rc.1")
		gitIn(t, dir, "tag", "-a", "-m", "release", "v1.2.3")
		gitIn(t, dir, "tag", "deploy-me")
		gitIn(t, dir, "remote", "add", "origin", "https://oauth2:s3cr3t@gitlab.example.com/acme/app.git")
		got, err := FromGit(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		want := Context{
			Revision: head, RevisionSource: "git HEAD", Branch: "feature/x", GitTag: "v1.2.3",
			Source: "https://gitlab.example.com/acme/app", Provider: ProviderGit,
		}
		if got != want {
			t.Errorf("FromGit() = %+v, want %+v", got, want)
		}
		if strings.Contains(strings.Join(LabelList(Labels(got, testNow)), " "), "s3cr3t") {
			t.Error("a label carries the credential")
		}
	})

	t.Run("detached HEAD has no branch", func(t *testing.T) {
		t.Parallel()
		dir, head := gitRepo(t)
		gitIn(t, dir, "checkout", "-q", "--detach")
		got, err := FromGit(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if got.Branch != "" || got.Revision != head {
			t.Errorf("FromGit() = %+v, want no branch and revision %s", got, head)
		}
	})

	t.Run("not a repository", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("git"); err != nil {
			t.Skip("git not installed")
		}
		dir := t.TempDir()
		_, err := FromGit(ctx, dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("FromGit() error = %v, want one naming %s", err, dir)
		}
	})

	t.Run("Detect falls back to git", func(t *testing.T) {
		t.Parallel()
		dir, head := gitRepo(t)
		got, err := Detect(ctx, env(nil), dir)
		if err != nil || got.Revision != head || got.Provider != ProviderGit {
			t.Errorf("Detect() = %+v, %v; want git HEAD %s", got, err, head)
		}
		got, err = Detect(ctx, env(map[string]string{"CIRCLECI": "true", "CIRCLE_SHA1": pushSHA}), dir)
		if err != nil || got.Revision != pushSHA || got.Provider != ProviderCircleCI {
			t.Errorf("Detect() = %+v, %v; want CircleCI %s", got, err, pushSHA)
		}
	})
}

func TestPickGitTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tags []string
		want string
	}{
		{nil, ""},
		{[]string{"b", "a"}, "a"},
		{[]string{"v1.2.3-rc.1", "v1.2.3", "x"}, "v1.2.3"},
		{[]string{"v2.0.0-rc.1", "v1.9.0"}, "v1.9.0"},
		{[]string{"v2.0.0-rc.1", "v2.0.0-rc.2"}, "v2.0.0-rc.2"},
		{[]string{"1.0.0", "v0.9.0"}, "1.0.0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.tags, ","), func(t *testing.T) {
			t.Parallel()
			if got := pickGitTag(tt.tags); got != tt.want {
				t.Errorf("pickGitTag(%v) = %q, want %q", tt.tags, got, tt.want)
			}
		})
	}
}

func TestSourceURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://github.com/acme/app", "https://github.com/acme/app"},
		{"https://github.com/acme/app.git", "https://github.com/acme/app"},
		{"https://user:token@github.com/acme/app.git", "https://github.com/acme/app"},
		{"https://gitlab-ci-token:glcbt-abc@gitlab.com/g/s/app.git?x=1#frag", "https://gitlab.com/g/s/app"},
		{"git@github.com:acme/app.git", "https://github.com/acme/app"},
		{"ssh://git@github.com:22/acme/app.git", "https://github.com/acme/app"},
		{"ssh://git@[::1]:2222/acme/app", "https://[::1]/acme/app"},
		{"git://example.com/app/", "https://example.com/app"},
		{"http://localhost:3000/acme/app", "http://localhost:3000/acme/app"},
		{"  https://github.com/acme/app\n", "https://github.com/acme/app"},
		{"/srv/git/app.git", ""},
		{"file:///srv/git/app.git", ""},
		{"../app", ""},
		{"C:\\repos\\app", ""},
		{"", ""},
		{"https://%zz@github.com/a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := SourceURL(tt.in); got != tt.want {
				t.Errorf("SourceURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
