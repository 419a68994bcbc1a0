package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

// PlaceholderAnnotation marks the tiny manifest a tag is re-pointed at to
// untag it on registries without tag DELETE (distribution 2.8).
const PlaceholderAnnotation = "dev.slipway.placeholder"

type options struct {
	jobs      int
	transport http.RoundTripper
	remote    []remote.Option
	records   RecordReader
	referrers referrersMode
	tagHEAD   *bool // nil: HEAD on Docker Hub only
}

// referrersMode says when Facts asks the referrers API.
type referrersMode int

const (
	referrersAuto referrersMode = iota // where the registry has it (probed once)
	referrersOn
	referrersOff
)

// Option configures a backend.
type Option func(*options) error

func makeOptions(opts ...Option) (*options, error) {
	o := &options{jobs: 8, transport: remote.DefaultTransport}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithJobs sets how many registry requests run at once while reading
// facts. Default 8; at least 1.
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("jobs must be at least 1, got %d", n)
		}
		o.jobs = n
		return nil
	}
}

// WithTransport sets the HTTP transport under ggcr's retries and auth.
// Default remote.DefaultTransport.
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) error {
		if t == nil {
			return errors.New("nil transport")
		}
		o.transport = t
		return nil
	}
}

// WithRemote adds ggcr remote options (auth, retry backoff, user agent).
// Default: anonymous, ggcr's retries. Use WithTransport for the transport.
func WithRemote(opts ...remote.Option) Option {
	return func(o *options) error {
		o.remote = append(o.remote, opts...)
		return nil
	}
}

// WithRecords reads Slipway's promotion records, the best age source.
// Default none.
func WithRecords(r RecordReader) Option {
	return func(o *options) error {
		o.records = r
		return nil
	}
}

// WithReferrersAPI says whether Facts asks the referrers API of every
// manifest (one request per digest): true always, false never (referrers
// are then found only through the sha256-<hex> fallback tags, which is what
// registries without the API, such as distribution 2.8, and ggcr's writes
// on them use). Default: where the registry has it, found with one probe;
// on a registry with the API, referrers that have no fallback tag (the
// promotion records Slipway wrote there among them) are seen only this way.
func WithReferrersAPI(on bool) Option {
	return func(o *options) error {
		o.referrers = referrersOff
		if on {
			o.referrers = referrersOn
		}
		return nil
	}
}

// WithTagHEAD says how Facts resolves a tag to its digest: true with a
// HEAD (then one GET per distinct manifest), false with a GET of the
// manifest (one request per tag, the fewest). Default: HEAD on Docker Hub,
// which counts every manifest GET as a pull against its pull rate limit
// and HEADs not; GET elsewhere.
func WithTagHEAD(on bool) Option {
	return func(o *options) error {
		o.tagHEAD = &on
		return nil
	}
}

// counter counts the HTTP requests that reach the transport (retries
// included) and notes what the registry said about its referrers API.
type counter struct {
	rt http.RoundTripper
	n  atomic.Int64
	// referrers: 0 not asked yet, 1 the registry answered the referrers
	// API with an index, -1 it answered without one (no API).
	referrers atomic.Int32
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	resp, err := c.rt.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/referrers/") {
		switch {
		case resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") == string(types.OCIImageIndex):
			c.referrers.Store(1)
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusNotAcceptable ||
			resp.StatusCode == http.StatusOK:
			c.referrers.CompareAndSwap(0, -1)
		}
	}
	return resp, err
}

// OCI is a Backend over the OCI distribution API: tags listed with
// pagination, manifests by digest, DELETE by digest, untag by tag DELETE or
// a placeholder manifest.
type OCI struct {
	repo   name.Repository
	o      *options
	count  *counter
	puller *remote.Puller
	pusher *remote.Pusher
	// noTagDelete is set once the registry refused a tag DELETE.
	noTagDelete atomic.Bool
}

// NewOCI returns the distribution-API backend for repo.
func NewOCI(repo name.Repository, opts ...Option) (*OCI, error) {
	o, err := makeOptions(opts...)
	if err != nil {
		return nil, err
	}
	c := &counter{rt: registry.LimitBodies(o.transport)}
	ropts := append([]remote.Option{remote.WithTransport(c), remote.WithJobs(o.jobs)}, o.remote...)
	pl, err := remote.NewPuller(ropts...)
	if err != nil {
		return nil, fmt.Errorf("configuring registry reads: %w", err)
	}
	ps, err := remote.NewPusher(ropts...)
	if err != nil {
		return nil, fmt.Errorf("configuring registry writes: %w", err)
	}
	return &OCI{repo: repo, o: o, count: c, puller: pl, pusher: ps}, nil
}

// Requests returns how many HTTP requests the backend has sent.
func (b *OCI) Requests() int64 { return b.count.n.Load() }

// Facts lists the tags (paginated), resolves each to its manifest, and
// reads every manifest, index child, referrer and image config once.
func (b *OCI) Facts(ctx context.Context) (*Facts, error) {
	start := b.Requests()
	lister, err := b.puller.Lister(ctx, b.repo)
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", b.repo, err)
	}
	r := newReader(b.repo, b.puller, b.o)
	r.hasReferrersAPI = func() bool { return b.count.referrers.Load() > 0 }
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.o.jobs)
	var mu sync.Mutex
	tagOf := make(map[string]v1.Hash)
	// Each page's tags are read while the next page is asked for.
	type page struct {
		tags []string
		err  error
	}
	fetch := func() <-chan page {
		ch := make(chan page, 1)
		if !lister.HasNext() {
			close(ch)
			return ch
		}
		go func() {
			p, err := lister.Next(gctx)
			if err != nil {
				ch <- page{err: err}
				return
			}
			ch <- page{tags: p.Tags}
		}()
		return ch
	}
	for next := fetch(); ; {
		p, ok := <-next
		if !ok {
			break
		}
		if p.err != nil {
			if err := g.Wait(); err != nil {
				return nil, err // the cause; the listing only saw it cancelled
			}
			return nil, fmt.Errorf("listing tags of %s: %w", b.repo, p.err)
		}
		next = fetch()
		sort.Strings(p.tags)
		b.readTags(g, gctx, r, p.tags, &mu, tagOf)
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if b.o.referrers != referrersOff {
		if err := r.referrersAPI(ctx); err != nil {
			return nil, err
		}
	}
	f, err := r.facts(ctx, tagOf, nil)
	if err != nil {
		return nil, err
	}
	f.Requests = b.Requests() - start
	return f, nil
}

// readTags reads each tag's manifest (and what it references) in g.
func (b *OCI) readTags(g *errgroup.Group, gctx context.Context, r *reader, tags []string, mu *sync.Mutex, tagOf map[string]v1.Hash) {
	head := b.repo.RegistryStr() == name.DefaultRegistry
	if b.o.tagHEAD != nil {
		head = *b.o.tagHEAD
	}
	for _, t := range tags {
		g.Go(func() error {
			var d v1.Hash
			var raw []byte
			var mt types.MediaType
			if head {
				desc, err := b.puller.Head(gctx, b.repo.Tag(t))
				if isNotFound(err) {
					return nil // deleted since the listing
				}
				if err != nil {
					return fmt.Errorf("resolving tag %s: %w", t, err)
				}
				d = desc.Digest
			} else {
				desc, err := b.puller.Get(gctx, b.repo.Tag(t))
				if isNotFound(err) {
					return nil // deleted since the listing
				}
				if err != nil {
					return fmt.Errorf("reading tag %s: %w", t, err)
				}
				d, raw, mt = desc.Digest, desc.Manifest, desc.MediaType
			}
			mu.Lock()
			tagOf[t] = d
			mu.Unlock()
			return r.visit(gctx, d, raw, mt)
		})
	}
}

// Delete deletes m by digest; 404 means already gone.
func (b *OCI) Delete(ctx context.Context, m *Manifest) error {
	err := b.pusher.Delete(ctx, b.repo.Digest(m.Digest.String()))
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting %s: %w", m.Digest, err)
	}
	return nil
}

// Untag removes tag from d: a tag DELETE where the registry has one, else
// the tag is re-pointed at a placeholder manifest that is then deleted.
func (b *OCI) Untag(ctx context.Context, tag string, d v1.Hash) error {
	ref := b.repo.Tag(tag)
	cur, err := b.puller.Head(ctx, ref)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resolving %s: %w", tag, err)
	}
	if cur.Digest != d {
		return fmt.Errorf("tag %s now points at %s: %w", tag, short(cur.Digest), ErrChanged)
	}
	if !b.noTagDelete.Load() {
		err := b.pusher.Delete(ctx, ref)
		if err == nil {
			return nil
		}
		var te *transport.Error
		if !errors.As(err, &te) || te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden || te.StatusCode >= 500 {
			return fmt.Errorf("deleting tag %s: %w", tag, err)
		}
		b.noTagDelete.Store(true) // 400/404/405: no tag DELETE here
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
	if err := b.pusher.Push(ctx, ref, img); err != nil {
		return fmt.Errorf("re-pointing %s at a placeholder: %w", tag, err)
	}
	if err := b.pusher.Delete(ctx, b.repo.Digest(pd.String())); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting the placeholder of %s: %w", tag, err)
	}
	return nil
}

// untagFinish bounds an untag once its placeholder is being written (the
// write and the delete), when the run's context is done.
const untagFinish = 10 * time.Second

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// reader reads manifests once per digest, with bounded concurrency
// inherited from its caller's errgroup.
type reader struct {
	repo   name.Repository
	puller *remote.Puller
	o      *options

	mu        sync.Mutex
	manifests map[v1.Hash]*Manifest
	once      map[v1.Hash]*sync.Once
	errs      map[v1.Hash]error
	missing   map[v1.Hash]bool
	labels    map[v1.Hash]time.Time
	notes     []string
	// registryTime is a backend's own time per digest (GHCR); nil for OCI.
	registryTime map[v1.Hash]time.Time
	// hasReferrersAPI reports whether the registry answered the referrers
	// API with an index (known after the first referrers request).
	hasReferrersAPI func() bool
}

func newReader(repo name.Repository, p *remote.Puller, o *options) *reader {
	return &reader{
		repo: repo, puller: p, o: o,
		manifests: make(map[v1.Hash]*Manifest),
		once:      make(map[v1.Hash]*sync.Once),
		errs:      make(map[v1.Hash]error),
		missing:   make(map[v1.Hash]bool),
		labels:    make(map[v1.Hash]time.Time),
	}
}

func (r *reader) note(format string, args ...any) {
	r.mu.Lock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// visit records digest d once; raw is its manifest when already fetched.
func (r *reader) visit(ctx context.Context, d v1.Hash, raw []byte, mt types.MediaType) error {
	r.mu.Lock()
	o, ok := r.once[d]
	if !ok {
		o = new(sync.Once)
		r.once[d] = o
	}
	r.mu.Unlock()
	o.Do(func() {
		err := r.read(ctx, d, raw, mt)
		r.mu.Lock()
		r.errs[d] = err
		r.mu.Unlock()
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs[d]
}

func (r *reader) read(ctx context.Context, d v1.Hash, raw []byte, mt types.MediaType) error {
	if raw == nil {
		desc, err := r.puller.Get(ctx, r.repo.Digest(d.String()))
		if isNotFound(err) {
			r.mu.Lock()
			r.missing[d] = true
			r.mu.Unlock()
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading manifest %s: %w", d, err)
		}
		raw, mt = desc.Manifest, desc.MediaType
	}
	m := &Manifest{Digest: d, MediaType: mt, Size: int64(len(raw))}
	var created string
	var children []v1.Hash
	var cfg *v1.Descriptor
	if mt.IsIndex() {
		var im v1.IndexManifest
		if err := json.Unmarshal(raw, &im); err != nil {
			return fmt.Errorf("parsing index %s: %w", d, err)
		}
		for _, c := range im.Manifests {
			children = append(children, c.Digest)
		}
		created = im.Annotations[CreatedLabel]
		if im.Subject != nil {
			s := im.Subject.Digest
			m.Subject = &s
		}
	} else {
		var man v1.Manifest
		if err := json.Unmarshal(raw, &man); err != nil {
			return fmt.Errorf("parsing manifest %s: %w", d, err)
		}
		m.Blobs = append(m.Blobs, Blob{man.Config.Digest, man.Config.Size})
		for _, l := range man.Layers {
			m.Blobs = append(m.Blobs, Blob{l.Digest, l.Size})
		}
		created = man.Annotations[CreatedLabel]
		m.ArtifactType = man.ArtifactType
		if man.Subject != nil {
			s := man.Subject.Digest
			m.Subject = &s
		}
		if man.Config.MediaType.IsConfig() {
			cfg = &man.Config
		}
	}
	m.Children = children
	label, ok := parseCreated(created)
	if created != "" && !ok {
		r.note("%s: annotation %s=%q is not RFC 3339, ignored", short(d), CreatedLabel, created)
	}
	// The label is read only when nothing better will be known.
	if !ok && cfg != nil && r.registryTime == nil {
		l, err := r.configLabel(ctx, d, *cfg)
		if err != nil {
			return err
		}
		label, ok = l, !l.IsZero()
	}
	r.mu.Lock()
	r.manifests[d] = m
	if ok {
		r.labels[d] = label
	}
	r.mu.Unlock()
	if len(children) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range children {
		g.Go(func() error { return r.visit(gctx, c, nil, "") })
	}
	return g.Wait()
}

// maxConfigBytes bounds the image config read for its created label.
const maxConfigBytes = 4 << 20

// configLabel reads the created label of an image config (never the
// config's own "created" field, which reproducible builds pin).
func (r *reader) configLabel(ctx context.Context, d v1.Hash, cfg v1.Descriptor) (time.Time, error) {
	l, err := r.puller.Layer(ctx, r.repo.Digest(cfg.Digest.String()))
	if err != nil {
		return time.Time{}, fmt.Errorf("reading config of %s: %w", d, err)
	}
	rc, err := l.Compressed()
	if isNotFound(err) {
		r.note("%s: config blob missing", short(d))
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading config of %s: %w", d, err)
	}
	defer rc.Close()
	// A config is a blob: the transport does not bound it, this does.
	b, err := io.ReadAll(io.LimitReader(rc, maxConfigBytes+1))
	if err != nil {
		return time.Time{}, fmt.Errorf("reading config of %s: %w", d, err)
	}
	if len(b) > maxConfigBytes {
		r.note("%s: config is over %d MiB, its labels were not read", short(d), maxConfigBytes>>20)
		return time.Time{}, nil
	}
	var cf struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		r.note("%s: config is not JSON: %v", short(d), err)
		return time.Time{}, nil
	}
	v, has := cf.Config.Labels[CreatedLabel]
	t, ok := parseCreated(v)
	if has && !ok {
		r.note("%s: label %s=%q is not RFC 3339, ignored", short(d), CreatedLabel, v)
	}
	return t, nil
}

// facts assembles Facts from what visit read: tags, ages and records.
func (r *reader) facts(ctx context.Context, tagOf map[string]v1.Hash, ids map[v1.Hash]string) (*Facts, error) {
	f := &Facts{Repo: r.repo.String(), Manifests: r.manifests}
	for t, d := range tagOf {
		if m, ok := f.Manifests[d]; ok {
			m.Tags = append(m.Tags, t)
		}
	}
	// An index without its own created time is as old as its newest child.
	for d, m := range f.Manifests {
		if _, ok := r.labels[d]; ok || len(m.Children) == 0 {
			continue
		}
		var newest time.Time
		for _, c := range m.Children {
			if t := r.labels[c]; t.After(newest) {
				newest = t
			}
		}
		if !newest.IsZero() {
			r.labels[d] = newest
		}
	}
	promoted, err := r.promotions(ctx, f)
	if err != nil {
		return nil, err
	}
	for d, m := range f.Manifests {
		sort.Strings(m.Tags)
		m.ID = ids[d]
		rt := r.registryTime[d]
		switch {
		case !rt.IsZero():
			m.Age = Age{Time: rt, Source: AgeFromRegistry}
		case !r.labels[d].IsZero():
			m.Age = Age{Time: r.labels[d], Source: AgeFromLabel}
		default:
			m.Age = Age{Source: AgeUnknown}
		}
		m.TagAges = make(map[string]Age, len(m.Tags))
		for _, t := range m.Tags {
			m.TagAges[t] = ResolveAge(t, promoted[d], rt, r.labels[d])
		}
		for _, c := range m.Children {
			if r.missing[c] {
				f.Missing = append(f.Missing, c)
			}
		}
	}
	sort.Slice(f.Missing, func(i, j int) bool { return f.Missing[i].String() < f.Missing[j].String() })
	f.Notes = r.notes
	sort.Strings(f.Notes)
	return f, nil
}

// promotions reads the promotion records among each subject's referrers.
func (r *reader) promotions(ctx context.Context, f *Facts) (map[v1.Hash]map[string]time.Time, error) {
	out := make(map[v1.Hash]map[string]time.Time)
	if r.o.records == nil {
		return out, nil
	}
	refs := make(map[v1.Hash][]v1.Descriptor)
	for d, m := range f.Manifests {
		if m.Subject == nil {
			continue
		}
		refs[*m.Subject] = append(refs[*m.Subject], v1.Descriptor{Digest: d, MediaType: m.MediaType, Size: m.Size, ArtifactType: m.ArtifactType})
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.jobs)
	for subj, descs := range refs {
		if _, ok := f.Manifests[subj]; !ok {
			continue
		}
		g.Go(func() error {
			times, err := r.o.records.PromotionTimes(gctx, r.repo.Digest(subj.String()), descs)
			if err != nil {
				return fmt.Errorf("reading promotion records of %s: %w", short(subj), err)
			}
			mu.Lock()
			out[subj] = times
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// referrersAPI asks the referrers API of every manifest read so far and
// reads the referrers it lists (and theirs). In auto mode the first answer
// decides: a registry without the API (ggcr then reads the fallback tag,
// whose index was listed with the tags anyway) is asked nothing more.
func (r *reader) referrersAPI(ctx context.Context) error {
	asked := make(map[v1.Hash]bool)
	if r.o.referrers == referrersAuto {
		probe, ok := r.firstManifest()
		if !ok {
			return nil
		}
		asked[probe] = true
		if err := r.referrersOf(ctx, probe); err != nil {
			return err
		}
		if r.hasReferrersAPI == nil || !r.hasReferrersAPI() {
			return nil
		}
	}
	for {
		r.mu.Lock()
		var todo []v1.Hash
		for d := range r.manifests {
			if !asked[d] {
				asked[d] = true
				todo = append(todo, d)
			}
		}
		r.mu.Unlock()
		if len(todo) == 0 {
			return nil
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(r.o.jobs)
		for _, d := range todo {
			g.Go(func() error { return r.referrersOf(gctx, d) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
}

// firstManifest is the smallest digest read so far (a stable probe).
func (r *reader) firstManifest() (v1.Hash, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first v1.Hash
	for d := range r.manifests {
		if first.Hex == "" || d.String() < first.String() {
			first = d
		}
	}
	return first, first.Hex != ""
}

// referrersOf lists d's referrers (the API, or ggcr's fallback) and reads
// each.
func (r *reader) referrersOf(ctx context.Context, d v1.Hash) error {
	idx, err := remote.Referrers(r.repo.Digest(d.String()), remote.Reuse(r.puller), remote.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("listing referrers of %s: %w", short(d), err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("listing referrers of %s: %w", short(d), err)
	}
	for _, desc := range im.Manifests {
		if err := r.visit(ctx, desc.Digest, nil, ""); err != nil {
			return err
		}
	}
	return nil
}
