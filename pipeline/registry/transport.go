package registry

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
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
	return &retryAfterTransport{inner: &settleTransport{inner: inner}, cap: retryAfterCap}
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
