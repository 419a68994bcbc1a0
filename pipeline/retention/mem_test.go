package retention

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// memBackend is a registry in memory with distribution's semantics:
// deleting a manifest drops every tag on it; nothing stops a delete from
// leaving an index without a child (that is what Plan must prevent).
type memBackend struct {
	mu        sync.Mutex
	manifests map[v1.Hash]*Manifest
	tags      map[string]v1.Hash
	tagAges   map[string]Age
	fail      map[v1.Hash]bool
	deleted   []v1.Hash
}

func newMem() *memBackend {
	return &memBackend{manifests: map[v1.Hash]*Manifest{}, tags: map[string]v1.Hash{}, tagAges: map[string]Age{}, fail: map[v1.Hash]bool{}}
}

func hashOf(s string) v1.Hash {
	sum := sha256.Sum256([]byte(s))
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}
}

// add stores a manifest; age is its own (registry or label) age.
func (b *memBackend) add(seed string, mt types.MediaType, age Age, children ...v1.Hash) v1.Hash {
	d := hashOf(seed)
	b.manifests[d] = &Manifest{Digest: d, MediaType: mt, Size: 500, Age: age, Children: children,
		Blobs: []Blob{{hashOf(seed + "/layer"), 1000}}}
	return d
}

func (b *memBackend) tag(t string, d v1.Hash, age Age) {
	b.tags[t] = d
	b.tagAges[t] = age
}

// referrer adds a referrer of subject, listed in the subject's fallback index.
func (b *memBackend) referrer(seed string, subject v1.Hash, age Age) v1.Hash {
	r := b.add(seed, types.OCIManifestSchema1, age)
	s := subject
	b.manifests[r].Subject = &s
	fbTag := "sha256-" + subject.Hex
	var kids []v1.Hash
	if old, ok := b.tags[fbTag]; ok {
		kids = append(kids, b.manifests[old].Children...)
		delete(b.manifests, old)
	}
	kids = append(kids, r)
	fb := b.add(fmt.Sprintf("fallback/%s/%d", subject, len(kids)), types.OCIImageIndex, age, kids...)
	b.manifests[fb].Blobs = nil
	b.tags[fbTag] = fb
	return r
}

func (b *memBackend) Facts(context.Context) (*Facts, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := &Facts{Repo: "registry.test/app", Manifests: map[v1.Hash]*Manifest{}}
	for d, m := range b.manifests {
		c := *m
		c.Tags = nil
		c.TagAges = map[string]Age{}
		f.Manifests[d] = &c
	}
	for t, d := range b.tags {
		if m, ok := f.Manifests[d]; ok {
			m.Tags = append(m.Tags, t)
			age := b.tagAges[t]
			switch {
			case age.Known():
			case m.Age.Known():
				age = m.Age
			default:
				age = ResolveAge(t, nil, time.Time{}, time.Time{})
			}
			m.TagAges[t] = age
		}
	}
	for _, m := range f.Manifests {
		sort.Strings(m.Tags)
		for _, c := range m.Children {
			if _, ok := f.Manifests[c]; !ok {
				f.Missing = append(f.Missing, c)
			}
		}
	}
	return f, nil
}

func (b *memBackend) Delete(_ context.Context, m *Manifest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail[m.Digest] {
		return fmt.Errorf("injected failure deleting %s", short(m.Digest))
	}
	if _, ok := b.manifests[m.Digest]; !ok {
		return nil
	}
	delete(b.manifests, m.Digest)
	for t, d := range b.tags {
		if d == m.Digest {
			delete(b.tags, t)
		}
	}
	b.deleted = append(b.deleted, m.Digest)
	return nil
}

func (b *memBackend) Untag(_ context.Context, tag string, d v1.Hash) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.tags[tag]
	if !ok {
		return nil
	}
	if cur != d {
		return fmt.Errorf("tag %s: %w", tag, ErrChanged)
	}
	delete(b.tags, tag)
	return nil
}

func ago(now time.Time, d time.Duration, src AgeSource) Age {
	return Age{Time: now.Add(-d), Source: src}
}
