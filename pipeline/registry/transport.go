package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The transport under ggcr's retry layer (remote.WithTransport keeps ggcr's
// auth, retry and user-agent layers on top of it). It adds two things ggcr
// v0.22.0 lacks, so that ggcr's own retries cover them:
//
//   - Retry-After: a 429 or 503 that carries it is held back for that long
//     (capped) before ggcr sees it and applies its backoff, so the next
//     attempt never comes earlier than the registry asked.
//   - Truncated answers: a small body (a manifest, an error, a config;
//     ≤ settleLimit with a known length) is read in full here, so a
//     connection cut mid-body becomes a RoundTrip error that ggcr's retry
//     predicate already retries (io.ErrUnexpectedEOF, ECONNRESET), instead
//     of a failed read after the retry layer has let go.
func newTransport(inner http.RoundTripper, retryAfterCap time.Duration) http.RoundTripper {
	return &retryAfterTransport{inner: &settleTransport{inner: LimitBodies(inner)}, cap: retryAfterCap}
}

const settleLimit = 4 << 20 // ggcr's manifest size limit is 4 MiB too

type settleTransport struct{ inner http.RoundTripper }

func (t *settleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if err != nil || req.Method == http.MethodHead || resp.ContentLength < 0 || resp.ContentLength > settleLimit {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && int64(len(b)) != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, fmt.Errorf("reading answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

type retryAfterTransport struct {
	inner http.RoundTripper
	cap   time.Duration
}

func (t *retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if err != nil || t.cap <= 0 {
		return resp, err
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return resp, nil
	}
	d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if !ok || d <= 0 {
		return resp, nil
	}
	d = min(d, t.cap)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return resp, nil
	case <-req.Context().Done():
		resp.Body.Close()
		return nil, req.Context().Err()
	}
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3), relative to now. It reports false for anything else.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		const maxSecs = uint64(24 * time.Hour / time.Second)
		return time.Duration(min(n, maxSecs)) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		d := at.Sub(now)
		return max(min(d, 24*time.Hour), 0), true
	}
	return 0, false
}

// sessionTransport is one session's layer under ggcr: it remembers, for
// the session only, what a registry host already said about itself, so
// ggcr does not ask again on the critical path.
//
//   - Pings: ggcr pings (GET /v2/) once per repository and again whenever a
//     cross-repository mount widens a writer's scopes. The answer is the
//     host's (200, or 401 and its challenge) and does not change within an
//     operation: the first successful one is replayed. Once a host answered
//     over plain HTTP, ggcr's https attempt at it fails at once instead of
//     dialling a TLS handshake the host cannot speak.
//   - The referrers API: a registry that has it never answers 404 to
//     GET /v2/<name>/referrers/<digest> (OCI distribution spec); one that
//     answered 404 lacks it, and ggcr's next probe (the one it makes before
//     maintaining the tag-schema fallback index of every manifest it writes
//     with a subject) gets that 404 replayed. ggcr then does exactly what it
//     would have done with the registry's own answer.
//
// Only answers to requests without credentials of their own are kept;
// nothing in them is a secret (a ping's challenge names the realm).
type sessionTransport struct {
	inner http.RoundTripper

	mu          sync.Mutex
	pings       map[string]*cachedAnswer // scheme://host
	plainHTTP   map[string]bool          // host answered a ping over http
	noReferrers map[string]*cachedAnswer // scheme://host
	// pending are answers to a GET read ahead (host+path): the next GET
	// of that path waits for it and takes it instead of asking again.
	pending map[string]func() *cachedAnswer
}

type bypassKey struct{}

// readAhead makes the next GET of host+path take what get returns (nil:
// ask the registry) instead. get runs now, its own requests bypassing
// this; the returned func drops the answer if nothing took it.
func (t *sessionTransport) readAhead(host, path string, get func(ctx context.Context) *cachedAnswer, ctx context.Context) (drop func()) {
	key := host + path
	done := make(chan struct{})
	var a *cachedAnswer
	go func() { a = get(context.WithValue(ctx, bypassKey{}, true)); close(done) }()
	f := func() *cachedAnswer { <-done; return a }
	t.mu.Lock()
	t.pending[key] = f
	t.mu.Unlock()
	return func() {
		<-done
		t.mu.Lock()
		delete(t.pending, key)
		t.mu.Unlock()
	}
}

// knowsNoReferrers reports whether host answered 404 to the referrers API
// in this session.
func (t *sessionTransport) knowsNoReferrers(host string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for origin := range t.noReferrers {
		if strings.HasSuffix(origin, "://"+host) {
			return true
		}
	}
	return false
}

type cachedAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a *cachedAnswer) response(req *http.Request) *http.Response {
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)),
		StatusCode:    a.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        a.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)),
		Request:       req,
	}
}

func newSessionTransport(inner http.RoundTripper) *sessionTransport {
	return &sessionTransport{inner: inner, pings: map[string]*cachedAnswer{}, plainHTTP: map[string]bool{}, noReferrers: map[string]*cachedAnswer{}, pending: map[string]func() *cachedAnswer{}}
}

// errPlainHTTP is the answer to an https ping of a host that already
// answered one over http in this session.
var errPlainHTTP = errors.New("registry answered over plain http in this session")

func isReferrersPath(p string) bool {
	i := strings.LastIndex(p, "/referrers/")
	return strings.HasPrefix(p, "/v2/") && i > len("/v2") && !strings.Contains(p[i+len("/referrers/"):], "/")
}

func (t *sessionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Header.Get("Authorization") != "" {
		return t.inner.RoundTrip(req)
	}
	if req.Context().Value(bypassKey{}) == nil {
		t.mu.Lock()
		f := t.pending[req.URL.Host+req.URL.Path]
		delete(t.pending, req.URL.Host+req.URL.Path)
		t.mu.Unlock()
		if f != nil {
			if a := f(); a != nil {
				return a.response(req), nil
			}
		}
	}
	origin := req.URL.Scheme + "://" + req.URL.Host
	var cache map[string]*cachedAnswer
	switch {
	case req.URL.Path == "/v2/":
		cache = t.pings
	case isReferrersPath(req.URL.Path):
		cache = t.noReferrers
	default:
		return t.inner.RoundTrip(req)
	}
	t.mu.Lock()
	a := cache[origin]
	plain := req.URL.Scheme == "https" && req.URL.Path == "/v2/" && t.plainHTTP[req.URL.Host]
	t.mu.Unlock()
	if plain {
		return nil, errPlainHTTP
	}
	if a != nil {
		return a.response(req), nil
	}
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	keep := false
	if req.URL.Path == "/v2/" {
		keep = resp.StatusCode == http.StatusOK || (resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != "")
	} else {
		keep = resp.StatusCode == http.StatusNotFound
	}
	if !keep || resp.ContentLength < 0 || resp.ContentLength > 64<<10 {
		return resp, nil
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if req.URL.Path != "/v2/" && bytes.Contains(b, []byte("NAME_UNKNOWN")) {
		return resp, nil // a repository's 404, not the registry's
	}
	t.mu.Lock()
	cache[origin] = &cachedAnswer{status: resp.StatusCode, header: resp.Header.Clone(), body: b}
	if req.URL.Path == "/v2/" && req.URL.Scheme == "http" {
		t.plainHTTP[req.URL.Host] = true
	}
	t.mu.Unlock()
	return resp, nil
}

// MaxAnswerBytes bounds every answer Slipway reads but a blob's: a
// manifest, a tag list page, a referrers index, an error, a token, a
// GitHub API page. A registry that declares more is refused before its
// body is read; one that streams more is cut at the limit. (A 100,000-tag
// repository listed in one page is about 4 MiB; manifests over 4 MiB are
// refused by registries. Blobs are streamed and checked against their
// digest instead; an image config is read within its own bound.)
const MaxAnswerBytes = 32 << 20

// ErrAnswerTooLarge: a registry or API answer over MaxAnswerBytes.
var ErrAnswerTooLarge = errors.New("answer too large")

// LimitBodies bounds the answers rt returns to MaxAnswerBytes, except
// blob downloads (GET …/blobs/sha256:…).
func LimitBodies(rt http.RoundTripper) http.RoundTripper {
	return &limitTransport{inner: rt, max: MaxAnswerBytes}
}

type limitTransport struct {
	inner http.RoundTripper
	max   int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if err != nil || req.Method == http.MethodHead || isBlobPath(req.URL.Path) {
		return resp, err
	}
	tooLarge := func(n string) error {
		return fmt.Errorf("%w: the answer to %s %s is %s, over Slipway's limit of %d MiB", ErrAnswerTooLarge, req.Method, req.URL.Path, n, t.max>>20)
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, tooLarge(fmt.Sprintf("%d bytes", resp.ContentLength))
	}
	if resp.ContentLength < 0 {
		resp.Body = &limitedBody{rc: resp.Body, left: t.max, err: tooLarge("longer")}
	}
	return resp, nil
}

// isBlobPath: GET /v2/<name>/blobs/<digest> (not an upload).
func isBlobPath(p string) bool {
	i := strings.LastIndex(p, "/blobs/")
	return strings.HasPrefix(p, "/v2/") && i > 0 && !strings.HasPrefix(p[i:], "/blobs/uploads")
}

// limitedBody fails a read past left bytes with err.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			// Closed here: a caller failing on this read may not close
			// it (ggcr's tag listing does not), and the connection would
			// stay open.
			b.rc.Close()
			return 0, b.err
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
