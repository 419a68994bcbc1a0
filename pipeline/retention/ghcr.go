package retention

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-github/v76/github"
	"golang.org/x/sync/errgroup"
)

// ErrRateLimited: the GitHub API budget or rate limit is exhausted.
var ErrRateLimited = errors.New("GitHub API rate limit")

// GHCR is a Backend for ghcr.io through the GitHub Packages REST API:
// package versions (with their tags and times) are listed and deleted by
// version id; manifests are read from the registry itself to learn index
// children and referrers. GITHUB_TOKEN allows about 1,000 API requests an
// hour, so the backend counts them against a budget and honours the rate
// limit headers.
type GHCR struct {
	repo       name.Repository
	owner, pkg string
	gh         *github.Client
	oci        *OCI
	o          *options
	g          ghcrOptions
	api        atomic.Int64

	mu    sync.Mutex
	isOrg *bool

	// mutating serializes deletes; lastMutation is when the last one ended.
	mutating     sync.Mutex
	lastMutation time.Time
}

type ghcrOptions struct {
	budget   int64
	owner    string // "org", "user" or "" (ask the API once)
	maxWait  time.Duration
	sleep    func(context.Context, time.Duration) error
	interval time.Duration // between mutating requests
}

// DefaultMutationInterval is the least time between two mutating GitHub API
// requests (deletes): GitHub's guidance for avoiding secondary rate limits
// is to send them serially, at least a second apart.
const DefaultMutationInterval = time.Second

// WithMutationInterval sets the least time between the end of one mutating
// API request (a version delete) and the start of the next; they are sent
// one at a time whatever WithApplyJobs says. Default
// DefaultMutationInterval (1s), per GitHub's guidance; tests shorten it.
func WithMutationInterval(d time.Duration) GHCROption {
	return func(o *ghcrOptions) error {
		if d < 0 {
			return fmt.Errorf("negative mutation interval %s", d)
		}
		o.interval = d
		return nil
	}
}

// GHCROption configures the GHCR backend.
type GHCROption func(*ghcrOptions) error

// WithAPIBudget caps the GitHub API requests one backend sends. Default 900
// (GITHUB_TOKEN allows about 1,000 an hour); at least 1.
func WithAPIBudget(n int) GHCROption {
	return func(o *ghcrOptions) error {
		if n < 1 {
			return fmt.Errorf("API budget must be at least 1, got %d", n)
		}
		o.budget = int64(n)
		return nil
	}
}

// WithOwnerType says whether the package belongs to an "org" or a "user".
// Default: asked once from the API.
func WithOwnerType(t string) GHCROption {
	return func(o *ghcrOptions) error {
		if t != "org" && t != "user" {
			return fmt.Errorf("owner type %q: want org or user", t)
		}
		o.owner = t
		return nil
	}
}

// WithRateLimitWait sets the longest wait for a rate limit to reset (or a
// secondary limit's Retry-After) before giving up. Default 1m; 0 never waits.
func WithRateLimitWait(d time.Duration) GHCROption {
	return func(o *ghcrOptions) error {
		if d < 0 {
			return fmt.Errorf("negative wait %s", d)
		}
		o.maxWait = d
		return nil
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// NewGHCR returns the GitHub Packages backend for repo (ghcr.io/OWNER/NAME).
// gh is the API client (its BaseURL may point at a test server); opts
// configure the registry reads as for NewOCI.
func NewGHCR(repo name.Repository, gh *github.Client, gopts []GHCROption, opts ...Option) (*GHCR, error) {
	owner, pkg, ok := strings.Cut(repo.RepositoryStr(), "/")
	if !ok || pkg == "" {
		return nil, fmt.Errorf("repository %s: want OWNER/PACKAGE", repo)
	}
	g := ghcrOptions{budget: 900, maxWait: time.Minute, sleep: sleepCtx, interval: DefaultMutationInterval}
	for _, opt := range gopts {
		if err := opt(&g); err != nil {
			return nil, err
		}
	}
	oci, err := NewOCI(repo, opts...)
	if err != nil {
		return nil, err
	}
	b := &GHCR{repo: repo, owner: owner, pkg: pkg, gh: gh, oci: oci, o: oci.o, g: g}
	if g.owner != "" {
		org := g.owner == "org"
		b.isOrg = &org
	}
	return b, nil
}

// APIRequests returns how many GitHub API requests the backend has sent.
func (b *GHCR) APIRequests() int64 { return b.api.Load() }

// call runs one API request within the budget, waiting out rate limits
// that reset within maxWait.
func (b *GHCR) call(ctx context.Context, what string, f func() (*github.Response, error)) error {
	for attempt := 0; ; attempt++ {
		if b.api.Load() >= b.g.budget {
			return fmt.Errorf("%s: budget of %d API requests spent: %w", what, b.g.budget, ErrRateLimited)
		}
		b.api.Add(1)
		resp, err := f()
		if err == nil {
			return nil
		}
		var wait time.Duration
		var rl *github.RateLimitError
		var abuse *github.AbuseRateLimitError
		switch {
		case errors.As(err, &rl):
			wait = time.Until(rl.Rate.Reset.Time)
		case errors.As(err, &abuse):
			wait = abuse.GetRetryAfter()
		default:
			if resp != nil && resp.StatusCode == http.StatusNotFound {
				return fmt.Errorf("%s: %w", what, errNotFound)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if wait < 0 {
			wait = 0
		}
		if attempt >= 3 || wait > b.g.maxWait {
			return fmt.Errorf("%s: %w (%w)", what, ErrRateLimited, err)
		}
		if err := b.g.sleep(ctx, wait+time.Second); err != nil {
			return err
		}
	}
}

var errNotFound = errors.New("not found")

func (b *GHCR) org(ctx context.Context) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.isOrg != nil {
		return *b.isOrg, nil
	}
	var u *github.User
	err := b.call(ctx, "looking up owner "+b.owner, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		u, resp, err = b.gh.Users.Get(ctx, b.owner)
		return resp, err
	})
	if err != nil {
		return false, err
	}
	org := u.GetType() == "Organization"
	b.isOrg = &org
	return org, nil
}

// versions lists every package version, page by page.
func (b *GHCR) versions(ctx context.Context, maxPages int) ([]*github.PackageVersion, error) {
	org, err := b.org(ctx)
	if err != nil {
		return nil, err
	}
	opts := &github.PackageListOptions{State: github.Ptr("active"), ListOptions: github.ListOptions{PerPage: 100}}
	var all []*github.PackageVersion
	for page := 0; maxPages <= 0 || page < maxPages; page++ {
		var vs []*github.PackageVersion
		var resp *github.Response
		err := b.call(ctx, "listing package versions of "+b.owner+"/"+b.pkg, func() (*github.Response, error) {
			var err error
			if org {
				vs, resp, err = b.gh.Organizations.PackageGetAllVersions(ctx, b.owner, "container", b.pkg, opts)
			} else {
				vs, resp, err = b.gh.Users.PackageGetAllVersions(ctx, b.owner, "container", b.pkg, opts)
			}
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, vs...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return all, nil
}

// Facts lists the package versions and reads each version's manifest once
// from the registry; ages come from promotion records, then the API's time.
func (b *GHCR) Facts(ctx context.Context) (*Facts, error) {
	startAPI, startOCI := b.APIRequests(), b.oci.Requests()
	vs, err := b.versions(ctx, 0)
	if err != nil {
		return nil, err
	}
	r := newReader(b.repo, b.oci.puller, b.o)
	r.registryTime = make(map[v1.Hash]time.Time)
	tagOf := make(map[string]v1.Hash)
	ids := make(map[v1.Hash]string)
	var digests []v1.Hash
	for _, v := range vs {
		d, err := v1.NewHash(v.GetName())
		if err != nil {
			r.note("version %d: name %q is not a digest, skipped", v.GetID(), v.GetName())
			continue
		}
		t := v.GetCreatedAt().Time
		if u := v.GetUpdatedAt().Time; u.After(t) {
			t = u // a retag updates the version: as young as its last tagging
		}
		r.registryTime[d] = t.UTC()
		ids[d] = strconv.FormatInt(v.GetID(), 10)
		digests = append(digests, d)
		if md, ok := v.GetMetadata(); ok && md.Container != nil {
			for _, tag := range md.Container.Tags {
				tagOf[tag] = d
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.o.jobs)
	for _, d := range digests {
		g.Go(func() error { return r.visit(gctx, d, nil, "") })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, d := range digests {
		if _, ok := r.manifests[d]; !ok {
			r.note("version %s (%s) has no manifest in the registry", ids[d], short(d))
			r.manifests[d] = &Manifest{Digest: d}
		}
	}
	f, err := r.facts(ctx, tagOf, ids)
	if err != nil {
		return nil, err
	}
	f.Requests = b.APIRequests() - startAPI + b.oci.Requests() - startOCI
	f.KeepLastTagged = true
	return f, nil
}

// Delete deletes the package version of m; 404 means already gone.
func (b *GHCR) Delete(ctx context.Context, m *Manifest) error {
	if m.ID == "" {
		return fmt.Errorf("deleting %s: no package version id", short(m.Digest))
	}
	id, err := strconv.ParseInt(m.ID, 10, 64)
	if err != nil {
		return fmt.Errorf("deleting %s: version id %q: %w", short(m.Digest), m.ID, err)
	}
	return b.deleteVersion(ctx, id, m.Digest)
}

func (b *GHCR) deleteVersion(ctx context.Context, id int64, d v1.Hash) error {
	org, err := b.org(ctx)
	if err != nil {
		return err
	}
	// Mutating requests go one at a time, b.g.interval apart (GitHub's
	// secondary rate limits); a Retry-After is honoured by call.
	b.mutating.Lock()
	defer b.mutating.Unlock()
	if wait := b.g.interval - time.Since(b.lastMutation); wait > 0 {
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
	defer func() { b.lastMutation = time.Now() }()
	err = b.call(ctx, fmt.Sprintf("deleting version %d (%s)", id, short(d)), func() (*github.Response, error) {
		if org {
			return b.gh.Organizations.PackageDeleteVersion(ctx, b.owner, "container", b.pkg, id)
		}
		return b.gh.Users.PackageDeleteVersion(ctx, b.owner, "container", b.pkg, id)
	})
	if errors.Is(err, errNotFound) {
		return nil
	}
	return err
}

// Untag removes tag from d. The Packages API cannot untag, so the tag is
// re-pointed at a placeholder manifest through the registry and the
// placeholder's version is deleted through the API.
func (b *GHCR) Untag(ctx context.Context, tag string, d v1.Hash) error {
	ref := b.repo.Tag(tag)
	cur, err := b.oci.puller.Head(ctx, ref)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resolving %s: %w", tag, err)
	}
	if cur.Digest != d {
		return fmt.Errorf("tag %s now points at %s: %w", tag, short(cur.Digest), ErrChanged)
	}
	img, ok := mutate.Annotations(empty.Image, map[string]string{PlaceholderAnnotation: tag}).(v1.Image)
	if !ok {
		return errors.New("building placeholder manifest")
	}
	pd, err := img.Digest()
	if err != nil {
		return fmt.Errorf("building placeholder manifest: %w", err)
	}
	// Once the placeholder is written it goes too, even when the run is
	// being stopped: an untag is whole or not started.
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), untagFinish)
	defer cancel()
	if err := b.oci.pusher.Push(ctx, ref, img); err != nil {
		return fmt.Errorf("re-pointing %s at a placeholder: %w", tag, err)
	}
	// The newest versions come first; the placeholder is among them.
	vs, err := b.versions(ctx, 3)
	if err != nil {
		return err
	}
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].GetCreatedAt().After(vs[j].GetCreatedAt().Time) })
	for _, v := range vs {
		if v.GetName() == pd.String() {
			return b.deleteVersion(ctx, v.GetID(), pd)
		}
	}
	return fmt.Errorf("untagging %s: placeholder %s not found among the newest versions", tag, short(pd))
}
