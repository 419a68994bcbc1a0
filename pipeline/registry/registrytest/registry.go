package registrytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultBinary is where Debian's docker-registry package installs the CNCF
// distribution registry.
const DefaultBinary = "/usr/bin/docker-registry"

// Registry is a registry serving plain HTTP on 127.0.0.1 for one test.
type Registry struct {
	host string
	real bool
	dir  string    // storage root of the real registry
	mem  *memBlobs // blob store of the in-process registry
	log  *syncBuf  // the real registry's output, shown when a test fails
	cmd  *exec.Cmd // the real registry's process
	srv  *httptest.Server
}

// Option configures New.
type Option func(*config)

type config struct {
	inProcess bool
	referrers bool
	tagDelete bool
}

// InProcess forces ggcr's in-process registry even when docker-registry is
// installed.
func InProcess() Option { return func(c *config) { c.inProcess = true } }

// ReferrersAPI starts an in-process registry that serves the OCI referrers
// API (distribution 2.8 does not; it forces InProcess).
func ReferrersAPI() Option {
	return func(c *config) { c.inProcess, c.referrers = true, true }
}

// TagDelete lets the in-process registry delete a tag alone (DELETE
// /v2/<name>/manifests/<tag>), as distribution 3 and some hosted registries
// do; it forces InProcess. Without it the in-process registry answers 400
// like distribution 2.8.
func TagDelete() Option {
	return func(c *config) { c.inProcess, c.tagDelete = true, true }
}

// New starts a registry for t and stops it in t.Cleanup: the real
// docker-registry when installed, else ggcr's in-process registry (see the
// package comment for the environment variables that choose). The
// in-process registry is made to delete like distribution 2.8: deleting a
// manifest by digest removes the tags on it, and deleting a tag alone is
// refused (400) unless TagDelete.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	bin := os.Getenv("SLIPWAY_DOCKER_REGISTRY")
	if bin == "" {
		bin = DefaultBinary
	}
	mode := os.Getenv("SLIPWAY_TEST_REGISTRY")
	_, statErr := os.Stat(bin)
	switch {
	case c.inProcess || mode == "inprocess":
		return newInProcess(t, c)
	case statErr == nil:
		return newReal(t, bin)
	case mode == "real":
		t.Fatalf("registrytest: SLIPWAY_TEST_REGISTRY=real but %s: %v", bin, statErr)
	}
	return newInProcess(t, c)
}

// Host is the registry's address, like "127.0.0.1:41234".
func (r *Registry) Host() string { return r.host }

// Real reports whether this is the docker-registry process (true) or the
// in-process registry (false).
func (r *Registry) Real() bool { return r.real }

// Pid is the docker-registry process's id; 0 for the in-process registry.
func (r *Registry) Pid() int {
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// Ref returns Host()+"/"+path, e.g. r.Ref("app:v1").
func (r *Registry) Ref(path string) string { return r.host + "/" + path }

// StorageDir is the real registry's storage root ("" for the in-process one).
func (r *Registry) StorageDir() string { return r.dir }

// Corruption is how CorruptBlob damages a blob.
type Corruption int

const (
	// FlipByte inverts the middle byte: same size, wrong digest.
	FlipByte Corruption = iota + 1
	// Truncate drops the second half of the blob.
	Truncate
)

// CorruptBlob damages the stored content of blob h in place, in either
// backend. The registry keeps serving it under its old digest, as a disk
// fault or a broken storage driver would.
func (r *Registry) CorruptBlob(t testing.TB, h v1.Hash, how Corruption) {
	t.Helper()
	if r.mem != nil {
		if err := r.mem.corrupt(h, how); err != nil {
			t.Fatalf("registrytest: corrupting %s: %v", h, err)
		}
		return
	}
	p := filepath.Join(r.dir, "docker", "registry", "v2", "blobs", h.Algorithm, h.Hex[:2], h.Hex, "data")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("registrytest: corrupting %s: %v", h, err)
	}
	b, err = corrupt(b, how)
	if err != nil {
		t.Fatalf("registrytest: corrupting %s: %v", h, err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatalf("registrytest: corrupting %s: %v", h, err)
	}
}

func corrupt(b []byte, how Corruption) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("empty blob")
	}
	switch how {
	case FlipByte:
		c := bytes.Clone(b)
		c[len(c)/2] ^= 0xff
		return c, nil
	case Truncate:
		return bytes.Clone(b[:len(b)/2]), nil
	}
	return nil, fmt.Errorf("unknown corruption %d", how)
}

func newInProcess(t testing.TB, c config) *Registry {
	mem := newMemBlobs()
	h := registry.New(
		registry.Logger(discardLogger()),
		registry.WithBlobHandler(mem),
		registry.WithReferrersSupport(c.referrers),
	)
	srv := httptest.NewServer(&dist28{inner: h, tagDelete: c.tagDelete})
	t.Cleanup(srv.Close)
	return &Registry{host: strings.TrimPrefix(srv.URL, "http://"), mem: mem, srv: srv}
}

const realConfig = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  redirect:
    disable: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: registrytest-not-a-secret
`

func newReal(t testing.TB, bin string) *Registry {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "storage")
	var lastErr error
	// A free port can be taken between our probe and the registry's bind:
	// try a few.
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			t.Fatalf("registrytest: %v", err)
		}
		cfg := filepath.Join(base, fmt.Sprintf("config-%d.yml", attempt))
		if err := os.WriteFile(cfg, fmt.Appendf(nil, realConfig, dir, addr), 0o644); err != nil {
			t.Fatalf("registrytest: %v", err)
		}
		log := &syncBuf{}
		cmd := exec.Command(bin, "serve", cfg)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("registrytest: starting %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if err := waitReady(addr, exited); err != nil {
			stop()
			lastErr = fmt.Errorf("%v\n%s", err, log.String())
			continue
		}
		r := &Registry{host: addr, real: true, dir: dir, log: log, cmd: cmd}
		t.Cleanup(func() {
			stop()
			if t.Failed() {
				t.Logf("registrytest: docker-registry output:\n%s", tail(log.String(), 4000))
			}
		})
		return r
	}
	t.Fatalf("registrytest: docker-registry did not start: %v", lastErr)
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReady polls GET /v2/ until it answers 200, the process exits, or 15s.
func waitReady(addr string, exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("docker-registry exited: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("docker-registry did not answer /v2/ within 15s")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
