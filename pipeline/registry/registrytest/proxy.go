package registrytest

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault is what a Rule does to a request it matches.
type Fault int

const (
	// Status answers Rule.Status (default 503) without forwarding.
	Status Fault = iota + 1
	// TooManyRequests answers 429 with Retry-After: Rule.RetryAfter (whole
	// seconds, default 1s) without forwarding.
	TooManyRequests
	// Reset closes the connection without answering.
	Reset
	// TruncateBody forwards, then cuts the answer's body after Rule.After
	// bytes (default: half of it) and closes the connection. The headers,
	// Content-Length included, are the registry's.
	TruncateBody
	// CorruptBody forwards and inverts one byte of the answer's body, at a
	// position drawn from the seed. Size and headers are unchanged.
	CorruptBody
	// Latency waits Rule.Delay plus up to Rule.Jitter (drawn from the seed),
	// then forwards.
	Latency
)

func (f Fault) String() string {
	switch f {
	case Status:
		return "status"
	case TooManyRequests:
		return "429"
	case Reset:
		return "reset"
	case TruncateBody:
		return "truncate"
	case CorruptBody:
		return "corrupt"
	case Latency:
		return "latency"
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// Rule chooses requests by method and path and injects a Fault into them.
// The first rule that matches a request and still applies decides it;
// requests no rule takes are forwarded untouched.
type Rule struct {
	// Method matches the request method; "" matches every method.
	Method string
	// Path is a regexp matched against the URL path (e.g.
	// `/manifests/stable$`, `/blobs/uploads/`); "" matches every path.
	Path string
	// Fault is what happens to a matched request.
	Fault Fault
	// First limits the fault to the first First matching requests (a burst
	// that then clears); 0 injects into every matching request (persistent).
	First int
	// Prob, strictly between 0 and 1, injects with that probability, drawn
	// from the proxy's seed; 0 means always.
	Prob float64
	// Status is the code Status answers (default 503).
	Status int
	// Code is the registry error code in Status's answer (default
	// UNAVAILABLE), e.g. MANIFEST_BLOB_UNKNOWN with Status 400.
	Code string
	// RetryAfter is the Retry-After TooManyRequests sends (default 1s).
	RetryAfter time.Duration
	// After is where TruncateBody cuts the body (default: half).
	After int64
	// Delay and Jitter are Latency's wait.
	Delay, Jitter time.Duration

	re       *regexp.Regexp
	matched  atomic.Int64
	injected atomic.Int64
}

// Injected is how many requests this rule has injected a fault into.
func (r *Rule) Injected() int64 { return r.injected.Load() }

// Stats are a proxy's counters. Bytes "in" travel from the client to the
// proxy, bytes "out" from the proxy to the client; the totals count request
// and status lines, headers and bodies, the Body figures bodies alone.
type Stats struct {
	Requests         int64
	ByMethod         map[string]int64
	Injected         int64
	BytesIn          int64
	BytesOut         int64
	BodyIn, BodyOut  int64
	AuthOK, AuthFail int64
}

// Request is one entry of a proxy's request log.
type Request struct {
	Start  time.Time // when the request arrived
	Time   time.Time // when the proxy was done with it
	Method string
	Path   string
	Fault  Fault // 0 when forwarded untouched
	Status int   // the status sent (0 for a reset)
}

// FaultProxy is an HTTP reverse proxy that injects faults. Its methods are
// safe for concurrent use.
type FaultProxy struct {
	upstream *url.URL
	srv      *httptest.Server
	rp       *httputil.ReverseProxy

	mu       sync.Mutex
	rules    []*Rule
	rng      *rand.Rand
	log      []Request
	byMethod map[string]int64
	user     string
	pass     string

	requests, injected atomic.Int64
	bytesIn, bytesOut  atomic.Int64
	bodyIn, bodyOut    atomic.Int64
	authOK, authFail   atomic.Int64
}

const maxLog = 100000

type faultKey struct{}

type faultDecision struct {
	rule *Rule
	pos  float64 // seeded position for CorruptBody, in [0,1)
}

// NewFaultProxy starts a proxy for t in front of upstreamHost (host:port,
// plain HTTP), with rules, drawing its random choices from seed: the same
// seed and the same order of requests inject the same faults. It stops in
// t.Cleanup.
func NewFaultProxy(t testing.TB, upstreamHost string, seed int64, rules ...*Rule) *FaultProxy {
	t.Helper()
	u, err := url.Parse("http://" + upstreamHost)
	if err != nil {
		t.Fatalf("registrytest: upstream %q: %v", upstreamHost, err)
	}
	p := &FaultProxy{
		upstream: u,
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		byMethod: map[string]int64{},
	}
	if err := p.SetRules(rules...); err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Keep the client's Host so the registry builds upload
			// Locations that point back at the proxy.
			pr.Out.Host = pr.In.Host
		},
		Transport:      tr,
		ModifyResponse: p.modifyResponse,
		ErrorLog:       log.New(io.Discard, "", 0),
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		p.srv.Close()
		tr.CloseIdleConnections()
	})
	return p
}

// Host is the proxy's address, like "127.0.0.1:41234".
func (p *FaultProxy) Host() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// SetRules replaces the rules (and their counters), e.g. between the phases
// of a test. It fails on a bad Path regexp.
func (p *FaultProxy) SetRules(rules ...*Rule) error {
	for _, r := range rules {
		if r.Fault < Status || r.Fault > Latency {
			return fmt.Errorf("rule %+v: unknown fault", r)
		}
		r.re = nil
		if r.Path != "" {
			re, err := regexp.Compile(r.Path)
			if err != nil {
				return fmt.Errorf("rule path %q: %w", r.Path, err)
			}
			r.re = re
		}
		r.matched.Store(0)
		r.injected.Store(0)
	}
	p.mu.Lock()
	p.rules = rules
	p.mu.Unlock()
	return nil
}

// RequireBasicAuth makes the proxy answer 401 (Basic challenge) to every
// request without these credentials. Empty user turns it off.
func (p *FaultProxy) RequireBasicAuth(user, pass string) {
	p.mu.Lock()
	p.user, p.pass = user, pass
	p.mu.Unlock()
}

// Stats returns the counters so far.
func (p *FaultProxy) Stats() Stats {
	p.mu.Lock()
	m := make(map[string]int64, len(p.byMethod))
	for k, v := range p.byMethod {
		m[k] = v
	}
	p.mu.Unlock()
	return Stats{
		Requests: p.requests.Load(), ByMethod: m, Injected: p.injected.Load(),
		BytesIn: p.bytesIn.Load(), BytesOut: p.bytesOut.Load(),
		BodyIn: p.bodyIn.Load(), BodyOut: p.bodyOut.Load(),
		AuthOK: p.authOK.Load(), AuthFail: p.authFail.Load(),
	}
}

// Log returns the requests seen so far, oldest first (at most 100,000).
func (p *FaultProxy) Log() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.log...)
}

// ResetStats zeroes the counters and the log (rules keep their own counters).
func (p *FaultProxy) ResetStats() {
	p.mu.Lock()
	p.log = nil
	p.byMethod = map[string]int64{}
	p.mu.Unlock()
	for _, c := range []*atomic.Int64{&p.requests, &p.injected, &p.bytesIn, &p.bytesOut, &p.bodyIn, &p.bodyOut, &p.authOK, &p.authFail} {
		c.Store(0)
	}
}

// decide picks the rule that takes r, if any.
func (p *FaultProxy) decide(r *http.Request) *faultDecision {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rule := range p.rules {
		if rule.Method != "" && !strings.EqualFold(rule.Method, r.Method) {
			continue
		}
		if rule.re != nil && !rule.re.MatchString(r.URL.Path) {
			continue
		}
		n := rule.matched.Add(1)
		if rule.First > 0 && n > int64(rule.First) {
			continue
		}
		if rule.Prob > 0 && rule.Prob < 1 && p.rng.Float64() >= rule.Prob {
			continue
		}
		rule.injected.Add(1)
		return &faultDecision{rule: rule, pos: p.rng.Float64()}
	}
	return nil
}

func (p *FaultProxy) record(r *http.Request, f Fault, status int) {
	start, _ := r.Context().Value(startKey{}).(time.Time)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byMethod[r.Method]++
	if len(p.log) < maxLog {
		p.log = append(p.log, Request{Start: start, Time: time.Now(), Method: r.Method, Path: r.URL.Path, Fault: f, Status: status})
	}
}

type startKey struct{}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(context.WithValue(r.Context(), startKey{}, time.Now()))
	p.requests.Add(1)
	p.bytesIn.Add(requestHeadSize(r))
	if r.Body != nil {
		r.Body = &countingBody{ReadCloser: r.Body, n: []*atomic.Int64{&p.bytesIn, &p.bodyIn}}
	}
	cw := &countingWriter{ResponseWriter: w, p: p}

	p.mu.Lock()
	user, pass := p.user, p.pass
	p.mu.Unlock()
	if user != "" {
		u, pw, ok := r.BasicAuth()
		if !ok || u != user || pw != pass {
			p.authFail.Add(1)
			cw.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
			cw.Header().Set("Content-Type", "application/json")
			cw.WriteHeader(http.StatusUnauthorized)
			io.WriteString(cw, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			p.record(r, 0, http.StatusUnauthorized)
			return
		}
		p.authOK.Add(1)
		// The registry behind us does not authenticate.
		r.Header.Del("Authorization")
	}

	d := p.decide(r)
	if d == nil {
		p.rp.ServeHTTP(cw, r)
		p.record(r, 0, cw.status)
		return
	}
	p.injected.Add(1)
	rule := d.rule
	switch rule.Fault {
	case Status:
		code := rule.Status
		if code == 0 {
			code = http.StatusServiceUnavailable
		}
		ecode := rule.Code
		if ecode == "" {
			ecode = "UNAVAILABLE"
		}
		cw.Header().Set("Content-Type", "application/json")
		cw.WriteHeader(code)
		fmt.Fprintf(cw, `{"errors":[{"code":%q,"message":"registrytest: injected %d"}]}`, ecode, code)
		p.record(r, rule.Fault, code)
	case TooManyRequests:
		ra := rule.RetryAfter
		if ra <= 0 {
			ra = time.Second
		}
		cw.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
		cw.Header().Set("Content-Type", "application/json")
		cw.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(cw, `{"errors":[{"code":"TOOMANYREQUESTS","message":"registrytest: injected 429"}]}`)
		p.record(r, rule.Fault, http.StatusTooManyRequests)
	case Reset:
		p.record(r, rule.Fault, 0)
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	case Latency:
		wait := rule.Delay
		if rule.Jitter > 0 {
			wait += time.Duration(d.pos * float64(rule.Jitter))
		}
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
		p.rp.ServeHTTP(cw, r)
		p.record(r, rule.Fault, cw.status)
	case TruncateBody:
		defer func() { p.record(r, rule.Fault, cw.status) }()
		p.rp.ServeHTTP(&truncatingWriter{countingWriter: cw, after: rule.After}, r)
	case CorruptBody:
		ctx := context.WithValue(r.Context(), faultKey{}, d)
		defer func() { p.record(r, rule.Fault, cw.status) }()
		p.rp.ServeHTTP(cw, r.WithContext(ctx))
	}
}

func (p *FaultProxy) modifyResponse(resp *http.Response) error {
	// Belt and braces: a Location naming the registry itself would take
	// the client around the proxy.
	if loc := resp.Header.Get("Location"); loc != "" && resp.Request != nil {
		if strings.Contains(loc, "//"+p.upstream.Host+"/") {
			resp.Header.Set("Location", strings.Replace(loc, "//"+p.upstream.Host+"/", "//"+resp.Request.Host+"/", 1))
		}
	}
	d, _ := resp.Request.Context().Value(faultKey{}).(*faultDecision)
	if d == nil || resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	if d.rule.Fault == CorruptBody {
		pos := int64(0)
		if resp.ContentLength > 0 {
			pos = int64(d.pos * float64(resp.ContentLength))
		}
		resp.Body = &corruptingBody{ReadCloser: resp.Body, at: pos}
	}
	return nil
}

// truncatingWriter passes the status, the headers and the first bytes of
// the body through, flushes them, and then drops the connection.
type truncatingWriter struct {
	*countingWriter
	after, written int64
}

func (w *truncatingWriter) WriteHeader(code int) {
	if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil && (w.after <= 0 || w.after >= n) {
		w.after = n / 2
	}
	w.countingWriter.WriteHeader(code)
}

func (w *truncatingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.written+int64(len(b)) <= w.after {
		n, err := w.countingWriter.Write(b)
		w.written += int64(n)
		return n, err
	}
	n, _ := w.countingWriter.Write(b[:w.after-w.written])
	w.written += int64(n)
	_ = http.NewResponseController(w.countingWriter).Flush()
	panic(http.ErrAbortHandler)
}

func (w *truncatingWriter) Unwrap() http.ResponseWriter { return w.countingWriter }

type corruptingBody struct {
	io.ReadCloser
	at, off int64
}

func (b *corruptingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.at >= b.off && b.at < b.off+int64(n) {
		p[b.at-b.off] ^= 0xff
	}
	b.off += int64(n)
	return n, err
}

type countingBody struct {
	io.ReadCloser
	n []*atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	for _, c := range b.n {
		c.Add(int64(n))
	}
	return n, err
}

type countingWriter struct {
	http.ResponseWriter
	p      *FaultProxy
	status int
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		size := int64(len("HTTP/1.1 000 ") + len(http.StatusText(code)) + 2 + 2)
		for k, vs := range w.Header() {
			for _, v := range vs {
				size += int64(len(k) + 2 + len(v) + 2)
			}
		}
		w.p.bytesOut.Add(size)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.p.bytesOut.Add(int64(n))
	w.p.bodyOut.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestHeadSize is the size of r's request line and headers on the wire
// (HTTP/1.1 framing).
func requestHeadSize(r *http.Request) int64 {
	size := int64(len(r.Method) + 1 + len(r.RequestURI) + len(" HTTP/1.1\r\n"))
	size += int64(len("Host: ") + len(r.Host) + 2)
	for k, vs := range r.Header {
		for _, v := range vs {
			size += int64(len(k) + 2 + len(v) + 2)
		}
	}
	return size + 2
}

// BasicAuthHeader is the Authorization value for user and pass, for tests
// that look for credentials in places they must not be.
func BasicAuthHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}
