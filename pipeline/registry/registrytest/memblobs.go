package registrytest

import (
	"bytes"
	"context"
	"io"
	"log"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// memBlobs is the in-process registry's blob store: like ggcr's in-memory
// handler, but per repository as in distribution (a blob pushed to one
// repository is absent from the others), plus corruption for tests.
type memBlobs struct {
	mu sync.Mutex
	m  map[blobKey][]byte
}

type blobKey struct {
	repo string
	h    v1.Hash
}

// key names blob h of repo. ggcr's handler passes "name/blobs" for the
// final PUT of an upload and "name" elsewhere: the same repository.
func key(repo string, h v1.Hash) blobKey {
	return blobKey{strings.TrimSuffix(repo, "/blobs"), h}
}

var (
	_ registry.BlobHandler       = (*memBlobs)(nil)
	_ registry.BlobStatHandler   = (*memBlobs)(nil)
	_ registry.BlobPutHandler    = (*memBlobs)(nil)
	_ registry.BlobDeleteHandler = (*memBlobs)(nil)
)

func newMemBlobs() *memBlobs { return &memBlobs{m: map[blobKey][]byte{}} }

func (m *memBlobs) Stat(_ context.Context, repo string, h v1.Hash) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[key(repo, h)]
	if !ok {
		return 0, registry.ErrNotFound
	}
	return int64(len(b)), nil
}

func (m *memBlobs) Get(_ context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[key(repo, h)]
	if !ok {
		return nil, registry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memBlobs) Put(_ context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[key(repo, h)] = b
	return nil
}

func (m *memBlobs) Delete(_ context.Context, repo string, h v1.Hash) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := key(repo, h)
	if _, ok := m.m[k]; !ok {
		return registry.ErrNotFound
	}
	delete(m.m, k)
	return nil
}

// corrupt damages blob h in every repository that has it (distribution
// stores a blob once for all of them).
func (m *memBlobs) corrupt(h v1.Hash, how Corruption) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := false
	for k, b := range m.m {
		if k.h != h {
			continue
		}
		c, err := corrupt(b, how)
		if err != nil {
			return err
		}
		m.m[k], found = c, true
	}
	if !found {
		return registry.ErrNotFound
	}
	return nil
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
