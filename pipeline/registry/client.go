// Package registry resolves, verifies and promotes images by digest, on
// go-containerregistry (DESIGN.md §6).
//
// A Client carries auth, transport and retry settings; every call takes a
// context first. Resolve turns a ref into a digest once; Verify checks a
// digest's manifests, blobs and revision label, and its promotion record;
// Promote copies a digest into a repository and moves its tags in a fixed
// order (copy, immutable tags, promotion record, floating tags) so that a
// failure anywhere leaves every floating tag where it was, and serializes
// floating-tag moves (see LeaseTag for how, and the limits).
// ReadPromotionRecords reads what Promote records.
//
// Errors callers branch on wrap sentinels: ErrVerifyMismatch,
// ErrTagExists, ErrBaselineMoved, ErrNotFound, ErrInvalidRequest; anything
// else is infrastructure (network, registry, auth). Retries are ggcr's
// (WithRetryBackoff), with Retry-After honoured and truncated answers
// retried (see transport.go).
//
// Credentials never appear in errors, results or logs: they live in ggcr's
// authenticators and the Authorization header only.
package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Client talks to registries. It is safe for concurrent use.
type Client struct {
	auth       authn.Authenticator // explicit credentials, or nil
	keychain   authn.Keychain      // used when auth is nil
	transport  http.RoundTripper
	backoff    remote.Backoff
	codes      []int
	retryAfter time.Duration
	jobs       int
	mountJobs  int // blobs in flight when each is a mount (no bytes)
	userAgent  string
	insecure   bool
	log        *slog.Logger
	lease      leaseConfig
	locks      *lockTable
	now        func() time.Time // lease expiry only; never in decisions
}

// Option configures a Client.
type Option func(*options) error

type options struct {
	auth       authn.Authenticator
	keychain   authn.Keychain
	getenv     func(string) string
	transport  http.RoundTripper
	backoff    *remote.Backoff
	codes      []int
	retryAfter time.Duration
	jobs       int
	mountJobs  int
	userAgent  string
	insecure   bool
	log        *slog.Logger
	lease      leaseConfig
}

// Environment variables the default keychain reads before the Docker config.
const (
	EnvUsername = "SLIPWAY_REGISTRY_USERNAME"
	EnvPassword = "SLIPWAY_REGISTRY_PASSWORD"
	// EnvRegistry limits the credentials above to one registry host
	// (e.g. "ghcr.io"); empty means every registry.
	EnvRegistry = "SLIPWAY_REGISTRY"
)

// DefaultFastBackoff is WithFastBackoff's retry schedule: five attempts,
// 1ms apart growing ×2. For tests.
var DefaultFastBackoff = remote.Backoff{Duration: time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5}

// DefaultRetryStatusCodes are the codes retried unless WithRetryStatusCodes
// says otherwise: ggcr's list (408, 429, 500, 502, 503, 504, 499, 522).
var DefaultRetryStatusCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, 499, 522,
}

// defaultBackoff is ggcr's own default (three attempts, 1s then 3s apart).
var defaultBackoff = remote.Backoff{Duration: time.Second, Factor: 3, Jitter: 0.1, Steps: 3}

// WithKeychain resolves credentials per registry from kc. The default is
// the environment (EnvUsername, EnvPassword, EnvRegistry) and then the
// Docker config (authn.DefaultKeychain: $DOCKER_CONFIG, ~/.docker, helpers).
func WithKeychain(kc authn.Keychain) Option {
	return func(o *options) error {
		if kc == nil {
			return errors.New("WithKeychain: nil keychain")
		}
		o.keychain, o.auth = kc, nil
		return nil
	}
}

// WithBasicAuth uses user and password (or a token in place of the
// password) for every registry, instead of the keychain. The Dagger module
// passes a Secret's plaintext here.
func WithBasicAuth(user, password string) Option {
	return func(o *options) error {
		if user == "" || password == "" {
			return errors.New("WithBasicAuth: username and password must both be set")
		}
		o.auth, o.keychain = &authn.Basic{Username: user, Password: password}, nil
		return nil
	}
}

// WithAuthenticator uses a for every registry, instead of the keychain
// (e.g. authn.FromConfig with a registry token).
func WithAuthenticator(a authn.Authenticator) Option {
	return func(o *options) error {
		if a == nil {
			return errors.New("WithAuthenticator: nil authenticator")
		}
		o.auth, o.keychain = a, nil
		return nil
	}
}

// WithEnv sets how the default keychain reads the environment (default
// os.Getenv); the CLI passes its injected environment.
func WithEnv(getenv func(string) string) Option {
	return func(o *options) error {
		if getenv == nil {
			return errors.New("WithEnv: nil getenv")
		}
		o.getenv = getenv
		return nil
	}
}

// WithTransport sets the HTTP transport under ggcr's auth and retry layers
// (default remote.DefaultTransport). Tests pass a proxy's or a recorder's.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return errors.New("WithTransport: nil transport")
		}
		o.transport = rt
		return nil
	}
}

// WithRetryBackoff sets ggcr's retry schedule for 429, 5xx, resets and
// truncated answers (default: ggcr's, three attempts 1s then 3s apart).
// Steps must be at least 1 (1 = no retry).
func WithRetryBackoff(b remote.Backoff) Option {
	return func(o *options) error {
		if b.Steps < 1 || b.Duration < 0 || b.Factor < 0 {
			return fmt.Errorf("WithRetryBackoff: steps %d, duration %v, factor %v: need steps ≥ 1 and no negatives", b.Steps, b.Duration, b.Factor)
		}
		o.backoff = &b
		return nil
	}
}

// WithFastBackoff is WithRetryBackoff(DefaultFastBackoff) with Retry-After
// capped at 1s: for tests.
func WithFastBackoff() Option {
	return func(o *options) error {
		b := DefaultFastBackoff
		o.backoff = &b
		o.retryAfter = min(o.retryAfter, time.Second)
		return nil
	}
}

// WithRetryStatusCodes sets the HTTP codes retried (default
// DefaultRetryStatusCodes). No codes turns status retries off.
func WithRetryStatusCodes(codes ...int) Option {
	return func(o *options) error {
		for _, c := range codes {
			if c < 100 || c > 599 {
				return fmt.Errorf("WithRetryStatusCodes: %d is not an HTTP status", c)
			}
		}
		o.codes = append([]int{}, codes...)
		return nil
	}
}

// WithRetryAfterCap sets the longest Retry-After honoured before a retry
// (default 30s; longer waits are cut to the cap). 0 ignores Retry-After.
func WithRetryAfterCap(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("WithRetryAfterCap: negative %v", d)
		}
		o.retryAfter = d
		return nil
	}
}

// WithJobs sets how many blobs or manifests move at once (default 4, and
// 8 for blobs mounted within a registry, which move no bytes).
func WithJobs(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("WithJobs: %d, need at least 1", n)
		}
		o.jobs, o.mountJobs = n, n
		return nil
	}
}

// WithUserAgent sets the User-Agent prefix (default "slipway").
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		o.userAgent = ua
		return nil
	}
}

// WithInsecure speaks plain HTTP to every registry. Without it, ggcr uses
// HTTP only for localhost, 127.0.0.1, ::1 and private (RFC 1918) hosts.
func WithInsecure() Option {
	return func(o *options) error {
		o.insecure = true
		return nil
	}
}

// WithLogger sets where warnings and dry-run skips are logged (default:
// nowhere). Log lines never contain credentials.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.log = l
		return nil
	}
}

// WithLease sets the registry lease that serializes floating-tag moves
// across processes (see Promote): settle is how long a contender waits
// after writing the lease before checking it is still its own, ttl how long
// a lease held by a crashed process blocks others. Default 1s and 2m.
// WithLease(0, 0) turns the lease off (one process only).
func WithLease(settle, ttl time.Duration) Option {
	return func(o *options) error {
		switch {
		case settle == 0 && ttl == 0:
			o.lease = leaseConfig{}
		case settle <= 0 || ttl < 10*settle:
			return fmt.Errorf("WithLease: settle %v, ttl %v: need settle > 0 and ttl ≥ 10×settle", settle, ttl)
		default:
			o.lease = leaseConfig{settle: settle, ttl: ttl}
		}
		return nil
	}
}

func makeOptions(opts ...Option) (*options, error) {
	o := &options{
		getenv:     os.Getenv,
		transport:  remote.DefaultTransport,
		codes:      DefaultRetryStatusCodes,
		retryAfter: 30 * time.Second,
		jobs:       4,
		mountJobs:  8,
		userAgent:  "slipway",
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		lease:      leaseConfig{settle: time.Second, ttl: 2 * time.Minute},
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
		}
	}
	return o, nil
}

// New returns a Client.
func New(opts ...Option) (*Client, error) {
	o, err := makeOptions(opts...)
	if err != nil {
		return nil, err
	}
	c := &Client{
		auth:       o.auth,
		keychain:   o.keychain,
		transport:  newTransport(o.transport, o.retryAfter),
		backoff:    defaultBackoff,
		codes:      o.codes,
		retryAfter: o.retryAfter,
		jobs:       o.jobs,
		mountJobs:  o.mountJobs,
		userAgent:  o.userAgent,
		insecure:   o.insecure,
		log:        o.log,
		lease:      o.lease,
		locks:      processLocks,
		now:        time.Now,
	}
	if o.backoff != nil {
		c.backoff = *o.backoff
	}
	if c.auth == nil && c.keychain == nil {
		c.keychain = authn.NewMultiKeychain(envKeychain{getenv: o.getenv}, authn.DefaultKeychain)
	}
	return c, nil
}

// remoteOptions are the ggcr options of one call.
func (c *Client) remoteOptions(ctx context.Context) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.transport),
		remote.WithRetryBackoff(c.backoff),
		remote.WithRetryStatusCodes(c.codes...),
		remote.WithJobs(c.jobs),
		remote.WithUserAgent(c.userAgent),
	}
	if c.auth != nil {
		opts = append(opts, remote.WithAuth(c.auth))
	} else {
		opts = append(opts, remote.WithAuthFromKeychain(c.keychain))
	}
	return opts
}

// session is one operation's puller and pusher: token exchanges, pings and
// what a registry said about its referrers API are shared within an
// operation, never across operations.
type session struct {
	ctx    context.Context
	c      *Client
	puller *remote.Puller
	pusher *remote.Pusher
	tr     *sessionTransport
	raw    *rawClients // see rawClient
}

// put writes a manifest whose blobs this session has just put in the
// repository, or seen there. Distribution's filesystem storage rewrites a
// blob's link in place when another writer uploads or mounts the same blob
// (two promotions into one repository, sharing a layer or the records'
// "{}"), and refuses a manifest PUT that reads the link in that instant as
// MANIFEST_BLOB_UNKNOWN. put writes again, on the client's backoff, and
// returns the refusal if it persists.
func (s *session) put(ref name.Reference, t remote.Taggable) error {
	b := s.c.backoff
	for {
		err := s.pusher.Put(s.ctx, ref, t)
		if err == nil || !blobUnknown(err) || b.Steps <= 1 {
			return err
		}
		s.c.log.Warn("the registry did not find a blob the manifest references; writing it again", "ref", ref.String(), "err", err.Error())
		if err := sleep(s.ctx, b.Step()); err != nil {
			return err
		}
	}
}

func (c *Client) session(ctx context.Context) (*session, error) {
	// One transport for the session's puller and pusher: what a host said
	// about itself (its ping, whether it has the referrers API) is asked
	// once per operation, not once per repository and role.
	tr := newSessionTransport(c.transport)
	opts := append(c.remoteOptions(ctx), remote.WithTransport(tr))
	pl, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	ps, err := remote.NewPusher(opts...)
	if err != nil {
		return nil, err
	}
	return &session{ctx: ctx, c: c, puller: pl, pusher: ps, tr: tr, raw: &rawClients{m: map[string]*http.Client{}, empty: map[string]func() error{}}}, nil
}

// opts are ggcr options for a one-off remote call within the session.
func (s *session) opts(extra ...remote.Option) []remote.Option {
	return append([]remote.Option{remote.WithContext(s.ctx), remote.Reuse(s.puller)}, extra...)
}

// nameOpts are the options for parsing references.
func (c *Client) nameOpts() []name.Option {
	if c.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// ParseReference parses a tag or digest reference as this client will use
// it (plain HTTP with WithInsecure).
func (c *Client) ParseReference(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref, c.nameOpts()...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return r, nil
}

// ParseDigest parses a repo@sha256:… reference.
func (c *Client) ParseDigest(ref string) (name.Digest, error) {
	d, err := name.NewDigest(ref, c.nameOpts()...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return d, nil
}

// ParseRepository parses a repository (no tag, no digest).
func (c *Client) ParseRepository(repo string) (name.Repository, error) {
	r, err := name.NewRepository(repo, c.nameOpts()...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return r, nil
}

// envKeychain serves EnvUsername/EnvPassword, for EnvRegistry or for every
// registry.
type envKeychain struct{ getenv func(string) string }

func (k envKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	user, pass := k.getenv(EnvUsername), k.getenv(EnvPassword)
	if user == "" || pass == "" {
		return authn.Anonymous, nil
	}
	if host := k.getenv(EnvRegistry); host != "" && host != r.RegistryStr() {
		return authn.Anonymous, nil
	}
	return &authn.Basic{Username: user, Password: pass}, nil
}
