package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Resolve returns the digest ref (a tag or a digest reference) points at
// now; a digest reference is checked to exist. Resolve once, then pass the
// digest: everything after it works by digest.
func (c *Client) Resolve(ctx context.Context, ref string) (name.Digest, error) {
	r, err := c.ParseReference(ref)
	if err != nil {
		return name.Digest{}, err
	}
	s, err := c.session(ctx)
	if err != nil {
		return name.Digest{}, err
	}
	d, _, err := s.resolve(r)
	return d, err
}

// resolve HEADs r, falling back to GET where a registry answers HEAD
// without a digest (as crane does). It returns the digest and descriptor.
func (s *session) resolve(r name.Reference) (name.Digest, *v1.Descriptor, error) {
	desc, err := s.puller.Head(s.ctx, r)
	if err != nil && headUnsupported(err) && s.ctx.Err() == nil {
		var full *remote.Descriptor
		full, err = s.puller.Get(s.ctx, r)
		if err == nil {
			desc = &full.Descriptor
		}
	}
	if err != nil {
		return name.Digest{}, nil, fmt.Errorf("resolving %s: %w", r, notFound(r.String(), err))
	}
	return r.Context().Digest(desc.Digest.String()), desc, nil
}

// headUnsupported: HEAD failed in a way GET may not (no digest header, 405).
func headUnsupported(err error) bool {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.StatusCode == http.StatusMethodNotAllowed || terr.StatusCode == http.StatusNotImplemented
	}
	return !transient(err) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// lookup is resolve that reports an absent tag as ok=false instead of an
// error.
func (s *session) lookup(r name.Reference) (d name.Digest, ok bool, err error) {
	desc, err := s.puller.Head(s.ctx, r)
	if isNotFound(err) {
		return name.Digest{}, false, nil
	}
	if err != nil && headUnsupported(err) && s.ctx.Err() == nil {
		var full *remote.Descriptor
		full, err = s.puller.Get(s.ctx, r)
		if isNotFound(err) {
			return name.Digest{}, false, nil
		}
		if err == nil {
			desc = &full.Descriptor
		}
	}
	if err != nil {
		return name.Digest{}, false, fmt.Errorf("resolving %s: %w", r, err)
	}
	return r.Context().Digest(desc.Digest.String()), true, nil
}

// get fetches the manifest at d. A body whose digest is not d's is a
// verification failure, not an infrastructure one.
func (s *session) get(d name.Digest) (*remote.Descriptor, error) {
	desc, err := s.puller.Get(s.ctx, d)
	if err != nil {
		if strings.Contains(err.Error(), "does not match requested digest") {
			return nil, mismatch(d.String(), "manifest content does not match its digest")
		}
		return nil, fmt.Errorf("fetching %s: %w", d, notFound(d.String(), err))
	}
	return desc, nil
}
