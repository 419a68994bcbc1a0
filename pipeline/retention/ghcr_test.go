package retention

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-github/v76/github"
)

// fakeGHCR speaks the GitHub Packages REST API subset Slipway uses (list
// package versions with tags and times, delete a version, look up a user)
// and, on the same address, an OCI registry whose every pushed manifest is
// a package version, as on ghcr.io: platform children of a multi-arch push
// are untagged versions.
type fakeGHCR struct {
	srv   *httptest.Server
	inner http.Handler

	mu       sync.Mutex
	clock    time.Time
	nextID   int64
	versions map[int64]*fakeVersion
	api      int
	deletes  []int64
	// abuse answers this many API requests with a secondary rate limit.
	abuse int
	// remaining is what X-RateLimit-Remaining says; 0 answers 403.
	remaining int
	// minGap, when set, is GitHub's guidance for mutating requests made a
	// rule: one at a time, each at least minGap after the last one ended;
	// a request that breaks it meets a secondary rate limit (403,
	// Retry-After: 60), counted in secondary.
	minGap     time.Duration
	inFlight   atomic.Int32
	lastMutEnd time.Time
	secondary  int
	// lists counts version listings (pages).
	lists int
}

type fakeVersion struct {
	id               int64
	digest           string
	created, updated time.Time
	tags             []string
}

func newFakeGHCR(t *testing.T) *fakeGHCR {
	f := &fakeGHCR{inner: registry.New(registry.Logger(discard())), versions: map[int64]*fakeVersion{},
		clock: time.Now().UTC(), remaining: 1000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGHCR) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fakeGHCR) client() *github.Client {
	c := github.NewClient(f.srv.Client())
	c.BaseURL, _ = url.Parse(f.srv.URL + "/api/")
	return c
}

// at sets the time the next pushes are recorded at.
func (f *fakeGHCR) at(t time.Time) {
	f.mu.Lock()
	f.clock = t
	f.mu.Unlock()
}

var (
	manifestPath = regexp.MustCompile(`^/v2/([^/]+)/([^/]+)/manifests/([^/]+)$`)
	versionsPath = regexp.MustCompile(`^/api/(orgs|users)/([^/]+)/packages/container/([^/]+)/versions(?:/(\d+))?$`)
	userPath     = regexp.MustCompile(`^/api/users/([^/]+)$`)
)

func (f *fakeGHCR) serve(w http.ResponseWriter, r *http.Request) {
	if m := manifestPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPut {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		f.inner.ServeHTTP(rec, r)
		if rec.Code == http.StatusCreated {
			f.record(fmt.Sprintf("sha256:%x", sha256.Sum256(body)), m[3])
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v2/") {
		f.inner.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodDelete && f.minGap > 0 {
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		f.mu.Lock()
		early := n > 1 || (!f.lastMutEnd.IsZero() && time.Since(f.lastMutEnd) < f.minGap)
		if early {
			f.secondary++
		}
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.lastMutEnd = time.Now(); f.mu.Unlock() }()
		if early {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.api++
	w.Header().Set("Content-Type", "application/json")
	if f.abuse > 0 {
		f.abuse--
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
		return
	}
	w.Header().Set("X-RateLimit-Limit", "1000")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	if f.remaining <= 0 {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"API rate limit exceeded"}`)
		return
	}
	f.remaining--
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(f.remaining))
	if m := userPath.FindStringSubmatch(r.URL.Path); m != nil {
		fmt.Fprintf(w, `{"login":%q,"type":"Organization"}`, m[1])
		return
	}
	m := versionsPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	if m[4] != "" && r.Method == http.MethodDelete {
		id, _ := strconv.ParseInt(m[4], 10, 64)
		v, ok := f.versions[id]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"Not Found"}`)
			return
		}
		if len(v.tags) > 0 && !f.otherTagged(id) {
			// Not in GitHub's OpenAPI description; what users of the API report.
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"message":"You cannot delete the last tagged version of a package. You must delete the package instead.","documentation_url":"https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization"}`)
			return
		}
		delete(f.versions, id)
		f.deletes = append(f.deletes, id)
		for _, ref := range append([]string{v.digest}, v.tags...) {
			req := httptest.NewRequest(http.MethodDelete, "/v2/"+m[2]+"/"+m[3]+"/manifests/"+ref, nil)
			f.inner.ServeHTTP(httptest.NewRecorder(), req)
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet || m[4] != "" {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	f.lists++
	var vs []*fakeVersion
	for _, v := range f.versions {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].id > vs[j].id })
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if page < 1 {
		page = 1
	}
	if per < 1 || per > 100 {
		per = 30
	}
	lo, hi := min((page-1)*per, len(vs)), min(page*per, len(vs))
	if hi < len(vs) {
		next := *r.URL
		q := next.Query()
		q.Set("page", strconv.Itoa(page+1))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, f.srv.URL, next.RequestURI()))
	}
	type out struct {
		ID        int64     `json:"id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
		Metadata  any       `json:"metadata"`
	}
	var res []out
	for _, v := range vs[lo:hi] {
		tags := v.tags
		if tags == nil {
			tags = []string{}
		}
		res = append(res, out{v.id, v.digest, v.created, v.updated,
			map[string]any{"package_type": "container", "container": map[string]any{"tags": tags}}})
	}
	json.NewEncoder(w).Encode(res)
}

// otherTagged reports whether a version other than id has a tag; f.mu held.
func (f *fakeGHCR) otherTagged(id int64) bool {
	for _, v := range f.versions {
		if v.id != id && len(v.tags) > 0 {
			return true
		}
	}
	return false
}

func (f *fakeGHCR) record(digest, ref string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var v *fakeVersion
	for _, x := range f.versions {
		if x.digest == digest {
			v = x
		}
	}
	if v == nil {
		f.nextID++
		v = &fakeVersion{id: f.nextID, digest: digest, created: f.clock, updated: f.clock}
		f.versions[v.id] = v
	}
	if strings.HasPrefix(ref, "sha256:") {
		return
	}
	for _, x := range f.versions {
		for i, t := range x.tags {
			if t == ref {
				x.tags = append(x.tags[:i:i], x.tags[i+1:]...)
				break
			}
		}
	}
	v.tags = append(v.tags, ref)
	v.updated = f.clock
}

func (f *fakeGHCR) digestOf(tag string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.versions {
		for _, t := range v.tags {
			if t == tag {
				return v.digest
			}
		}
	}
	return ""
}

func (f *fakeGHCR) has(digest string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.versions {
		if v.digest == digest {
			return true
		}
	}
	return false
}

func discard() *log.Logger { return log.New(io.Discard, "", 0) }

func newGHCRBackend(t *testing.T, f *fakeGHCR, gopts ...GHCROption) *GHCR {
	t.Helper()
	repo, err := name.NewRepository(f.host() + "/acme/app")
	if err != nil {
		t.Fatal(err)
	}
	gopts = append([]GHCROption{func(o *ghcrOptions) error {
		o.sleep = func(context.Context, time.Duration) error { return nil }
		return nil
	}}, gopts...)
	b, err := NewGHCR(repo, f.client(), gopts, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGHCRRunIDs is the seed's weekly GHCR job: numeric run-id tags older
// than 14 days go, :cache stays; a multi-arch package's untagged platform
// children survive while their index is kept.
func TestGHCRRunIDs(t *testing.T) {
	t.Parallel()
	f := newFakeGHCR(t)
	ref := func(tag string) string { return f.host() + "/acme/app:" + tag }
	start := time.Now().UTC()
	f.at(start.Add(-30 * day))
	old := registrytest.PushImage(t, ref("1001"), registrytest.ImageSpec{})
	registrytest.PushImage(t, ref("cache"), registrytest.ImageSpec{})
	multi := registrytest.PushIndex(t, ref("1002"), registrytest.ImageSpec{}, registrytest.ImageSpec{})
	oldMulti := registrytest.PushIndex(t, ref("1003"), registrytest.ImageSpec{}, registrytest.ImageSpec{})
	orphan := registrytest.PushImage(t, f.host()+"/acme/app", registrytest.ImageSpec{})
	f.at(start.Add(-3 * day))
	young := registrytest.PushImage(t, ref("1004"), registrytest.ImageSpec{})
	// 1002 was retagged "main" recently: its version is as young as that.
	f.at(start.Add(-time.Hour))
	if err := remote.Tag(mustRepoTag(t, ref("main")), mustGet(t, multi)); err != nil {
		t.Fatal(err)
	}
	for range 120 { // two pages of versions
		registrytest.PushImage(t, f.host()+"/acme/app", registrytest.ImageSpec{LayerSize: 16})
	}

	cfg, err := config.LoadFile("testdata/ghcr-run-ids.yaml")
	if err != nil {
		t.Fatal(err)
	}
	policy := mustPolicy(t, cfg.Retention, cfg.Tags.Floating...)
	b := newGHCRBackend(t, f)
	ctx := context.Background()
	facts, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := facts.Manifests[mustHash(old.DigestStr())].TagAges["1001"].Source; got != AgeFromRegistry {
		t.Fatalf("age source %s, want registry-time", got)
	}
	p := Evaluate(time.Now(), policy, facts, Inputs{})
	res, err := Apply(ctx, b, p)
	if err != nil {
		t.Fatalf("apply: %v\n%+v", err, res)
	}
	for _, gone := range []name.Digest{old, oldMulti, orphan} {
		if f.has(gone.DigestStr()) {
			t.Errorf("%s still there", gone)
		}
	}
	for _, c := range children(t, multi) {
		if !f.has(c.String()) {
			t.Errorf("untagged child %s of kept index deleted", short(c))
		}
	}
	if f.has(children(t, multi)[0].String()) && f.digestOf("cache") == "" {
		t.Error(":cache is gone")
	}
	if f.digestOf("1004") != young.DigestStr() || f.digestOf("1002") != multi.DigestStr() {
		t.Error("young run-id or retagged index gone")
	}
	if b.APIRequests() > 20 {
		t.Errorf("%d API requests", b.APIRequests())
	}
}

func mustRepoTag(t *testing.T, s string) name.Tag {
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func TestGHCRUntagAndRateLimits(t *testing.T) {
	t.Parallel()
	f := newFakeGHCR(t)
	f.at(time.Now().Add(-40 * day))
	d := registrytest.PushImage(t, f.host()+"/acme/app:sha-abcdef0", registrytest.ImageSpec{})
	if err := remote.Tag(mustRepoTag(t, f.host()+"/acme/app:v1.0.0"), mustGet(t, d)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	realSleep := func(o *ghcrOptions) error { o.sleep = sleepCtx; return nil }
	b := newGHCRBackend(t, f, realSleep)
	f.abuse = 1 // a secondary rate limit is waited out (Retry-After: 1)
	facts, err := b.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	policy := mustPolicy(t, config.Retention{Protect: []string{`^v`}, Rules: []config.Rule{{Name: "commits", Class: "sha", OlderThan: config.Duration(30 * day)}}})
	p := Evaluate(time.Now(), policy, facts, Inputs{})
	if p.Summary.Untag != 1 || p.Summary.Delete != 0 {
		t.Fatalf("plan: %+v", p.Items)
	}
	if _, err := Apply(ctx, b, p); err != nil {
		t.Fatal(err)
	}
	if f.digestOf("sha-abcdef0") != "" || f.digestOf("v1.0.0") != d.DigestStr() {
		t.Fatalf("after untag: sha-abcdef0 -> %q, v1.0.0 -> %q", f.digestOf("sha-abcdef0"), f.digestOf("v1.0.0"))
	}

	// The budget is a hard stop; so is an exhausted rate limit.
	small := newGHCRBackend(t, f, WithAPIBudget(1), WithOwnerType("org"))
	if _, err := small.Facts(ctx); err != nil {
		t.Fatalf("one page within a budget of one: %v", err)
	}
	if _, err := small.Facts(ctx); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("over budget: %v", err)
	}
	f.mu.Lock()
	f.remaining = 0
	f.mu.Unlock()
	if _, err := newGHCRBackend(t, f, WithOwnerType("org"), WithRateLimitWait(0)).Facts(ctx); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("rate limited: %v", err)
	}
}
