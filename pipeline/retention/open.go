package retention

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-github/v76/github"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

// Access is how a backend reaches a repository.
type Access struct {
	// Username and Password for the registry; empty Password means the
	// Docker config keychain.
	Username, Password string
	// GitHubToken enables the GitHub Packages backend for ghcr.io (the
	// registry API cannot delete there). On ghcr.io the registry password
	// is such a token, and is used when GitHubToken is empty.
	GitHubToken string
	// GitHubAPI overrides the GitHub API URL (GitHub Enterprise, tests).
	GitHubAPI string
	// Insecure talks plain HTTP to the registry (an engine-local one).
	Insecure bool
	// Jobs bounds concurrent registry requests (default 8).
	Jobs int
	// Records reads Slipway's promotion records, the first age source.
	Records *registry.Client
}

// Open picks the backend for repo: GitHub Packages for ghcr.io when a token
// is at hand, else the OCI distribution API. warning is non-empty when
// ghcr.io is pruned without a token.
func Open(repo name.Repository, a Access) (b Backend, warning string, err error) {
	jobs := a.Jobs
	if jobs == 0 {
		jobs = 8
	}
	opts := []Option{WithJobs(jobs)}
	if a.Records != nil {
		opts = append(opts, WithRecords(ClientRecords{Client: a.Records}))
	}
	auth := remote.WithAuthFromKeychain(authn.DefaultKeychain)
	if a.Password != "" {
		auth = remote.WithAuth(&authn.Basic{Username: a.Username, Password: a.Password})
	}
	ghcr := repo.RegistryStr() == "ghcr.io" || a.GitHubAPI != ""
	token := a.GitHubToken
	if token == "" && ghcr {
		token = a.Password
	}
	if !ghcr || token == "" {
		if ghcr {
			warning = "no GitHub token: using the registry API, which ghcr.io may refuse to delete through"
		}
		b, err = NewOCI(repo, append(opts, WithRemote(auth))...)
		return b, warning, err
	}
	if a.Password == "" {
		auth = remote.WithAuth(&authn.Basic{Username: "slipway", Password: token})
	}
	gh := github.NewClient(&http.Client{Transport: registry.LimitBodies(http.DefaultTransport)}).WithAuthToken(token)
	if a.GitHubAPI != "" {
		u, err := url.Parse(strings.TrimSuffix(a.GitHubAPI, "/") + "/")
		if err != nil {
			return nil, "", fmt.Errorf("GitHub API URL: %w", err)
		}
		gh.BaseURL = u
	}
	b, err = NewGHCR(repo, gh, nil, append(opts, WithRemote(auth))...)
	return b, warning, err
}
