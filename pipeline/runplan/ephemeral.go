package runplan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
)

// DefaultEphemeralImage is the registry image of the zero-setup ephemeral
// registry when the config's ephemeral.image is empty: CNCF distribution
// 2.8.3, pinned by digest.
const DefaultEphemeralImage = "docker.io/library/registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373"

// EphemeralImage is the registry image of the ephemeral registry: the
// config's ephemeral.image, else DefaultEphemeralImage.
func EphemeralImage(configured string) string {
	if configured != "" {
		return configured
	}
	return DefaultEphemeralImage
}

// ForUser rewrites the ephemeral registry's other addresses in text (a
// report, an action line, an error): the service's endpoint, as the
// registry client reaches it, and EphemeralEngineHost, as the engine does,
// become localhost:5000, the address users, verify and prune know it by.
// endpoint may be "" (no service started).
func ForUser(text, endpoint string) string {
	user := ephemeralHost() + "/"
	if endpoint != "" {
		text = strings.ReplaceAll(text, endpoint+"/", user)
	}
	return strings.ReplaceAll(text, EphemeralEngineHost+"/", user)
}

// ExplainUnreachable adds what to do to err when ref's registry is on a
// loopback address that refused the connection: the module's registry
// client runs in a container on the Dagger engine, where 127.0.0.1 is that
// container, while the engine's own pulls and pushes reach the host's. The
// ephemeral registry (localhost:5000/slipway) is reached another way and
// is left alone. Other errors are returned as they are.
func ExplainUnreachable(ref string, err error) error {
	if err == nil || IsEphemeral(ref) || !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	r, perr := name.ParseReference(ref)
	if perr != nil {
		return err
	}
	host := r.Context().RegistryStr()
	if h, _, serr := net.SplitHostPort(host); serr == nil {
		host = h
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return err
	}
	return fmt.Errorf("%w (Slipway's registry client runs in a container on the Dagger engine, where %s is that container, not your machine: "+
		"use a registry address the engine's containers reach, such as a host name or a non-loopback IP, or leave image unset for the ephemeral registry)", err, host)
}

// ForUserErr is ForUser for an error's message, keeping the error chain.
func ForUserErr(err error, endpoint string) error {
	if err == nil {
		return err
	}
	msg := err.Error()
	if user := ForUser(msg, endpoint); user != msg {
		return &userError{msg: user, err: err}
	}
	return err
}

type userError struct {
	msg string
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

// Project is whose ephemeral registry a run uses: runs of one project share
// its images and baselines, two projects never do.
type Project struct {
	// ID identifies the project: the config's ephemeral.project, else its
	// repository URL without scheme, user and .git (github.com/acme/app).
	ID string
	// From says where ID came from: "ephemeral.project", "--source-url",
	// "git remote origin", or "none" (every such run shares one registry).
	From string
}

// ProjectOf decides the project of a run from the config's
// ephemeral.project, the module's --source-url and the text of the
// source's .git/config (each may be empty), in that order.
func ProjectOf(configProject, sourceURL, gitConfig string) Project {
	if p := strings.TrimSpace(configProject); p != "" {
		return Project{ID: p, From: "ephemeral.project"}
	}
	if u := normalizeRepoURL(sourceURL); u != "" {
		return Project{ID: u, From: "--source-url"}
	}
	if u := normalizeRepoURL(originURL(gitConfig)); u != "" {
		return Project{ID: u, From: "git remote origin"}
	}
	return Project{ID: "", From: "none"}
}

// Volume is the name of the engine cache volume that stores the project's
// ephemeral registry.
func (p Project) Volume() string {
	sum := sha256.Sum256([]byte(p.ID))
	return "slipway-ephemeral-" + hex.EncodeToString(sum[:8])
}

// normalizeRepoURL reduces the ways one repository is written
// (https://github.com/Acme/app.git, git@github.com:acme/app,
// ssh://git@github.com/acme/app/) to one: github.com/acme/app.
func normalizeRepoURL(u string) string {
	u = strings.TrimSpace(u)
	if u == "" {
		return ""
	}
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	} else if at, rest, ok := strings.Cut(u, "@"); ok && !strings.Contains(at, "/") {
		u = strings.Replace(rest, ":", "/", 1) // scp-like: git@host:owner/repo
	}
	host, path, _ := strings.Cut(u, "/")
	if _, h, ok := strings.Cut(host, "@"); ok {
		host = h // user@ in a URL
	}
	u = host + "/" + path
	u = strings.TrimRight(u, "/")
	u = strings.TrimSuffix(u, ".git")
	return strings.ToLower(u)
}

// originURL is the url of [remote "origin"] in the text of a .git/config.
func originURL(gitConfig string) string {
	in := false
	for _, line := range strings.Split(gitConfig, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "[") {
			in = strings.ReplaceAll(l, " ", "") == `[remote"origin"]`
			continue
		}
		if k, v, ok := strings.Cut(l, "="); in && ok && strings.TrimSpace(k) == "url" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
