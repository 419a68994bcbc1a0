package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// RevisionLabel is the OCI label that names the commit an image was built
// from.
const RevisionLabel = "org.opencontainers.image.revision"

// VerifyOptions say how deep Verify looks.
type VerifyOptions struct {
	// Revision, when set, must equal the RevisionLabel of every image (each
	// platform image of an index; attestation manifests excepted).
	Revision string
	// Full streams and hashes every blob. Without it, blobs are checked for
	// presence and size (HEAD), manifests and configs are always hashed.
	Full bool
	// RequirePromotion requires a promotion record (see Promote) that
	// refers to the digest.
	RequirePromotion bool
}

// Verify resolves ref and checks what it points at: each manifest's digest
// and size (every child of an index, recursively), each config and layer
// present with the size its manifest gives (hashed in full with
// opts.Full), the revision label, and the promotion record. It returns the
// digest it checked. A difference is a *MismatchError (ErrVerifyMismatch)
// naming what differs in one line; a missing ref is ErrNotFound; anything
// else is infrastructure.
func (c *Client) Verify(ctx context.Context, ref string, opts VerifyOptions) (name.Digest, error) {
	r, err := c.ParseReference(ref)
	if err != nil {
		return name.Digest{}, err
	}
	s, err := c.session(ctx)
	if err != nil {
		return name.Digest{}, err
	}
	d, desc, err := s.resolve(r)
	if err != nil {
		return name.Digest{}, err
	}
	v := &verifier{s: s, repo: d.Context(), opts: opts}
	if err := v.manifest(desc.Digest, nil, true); err != nil {
		return d, err
	}
	if opts.RequirePromotion {
		recs, err := s.readRecords(d)
		if err != nil {
			return d, err
		}
		if len(recs) == 0 {
			return d, mismatch(d.String(), "no promotion record refers to it")
		}
	}
	return d, nil
}

type verifier struct {
	s    *session
	repo name.Repository
	opts VerifyOptions
}

// attestationAnnotation marks BuildKit's attestation manifests in an index.
const attestationAnnotation = "vnd.docker.reference.type"

// manifest checks the manifest h (against parent's descriptor when it is a
// child) and everything under it. checkRevision is false for children that
// carry no build (attestations).
func (v *verifier) manifest(h v1.Hash, parent *v1.Descriptor, checkRevision bool) error {
	d := v.repo.Digest(h.String())
	desc, err := v.s.get(d)
	if err != nil {
		return err
	}
	if parent != nil && parent.Size != int64(len(desc.Manifest)) {
		return mismatch(d.String(), "manifest is %d bytes, its index says %d", len(desc.Manifest), parent.Size)
	}
	switch {
	case desc.MediaType.IsIndex():
		var im v1.IndexManifest
		if err := json.Unmarshal(desc.Manifest, &im); err != nil {
			return mismatch(d.String(), "index does not parse: %v", err)
		}
		for i := range im.Manifests {
			child := im.Manifests[i]
			if !child.MediaType.IsIndex() && !child.MediaType.IsImage() && !isManifestType(child.MediaType) {
				// Not a manifest (rare in an index): check it as a blob.
				if err := v.blob(child, fmt.Sprintf("index entry %d", i)); err != nil {
					return err
				}
				continue
			}
			rev := checkRevision && child.Annotations[attestationAnnotation] != "attestation-manifest"
			if err := v.manifest(child.Digest, &child, rev); err != nil {
				return err
			}
		}
		return nil
	case desc.MediaType.IsSchema1():
		return mismatch(d.String(), "schema 1 manifests are not supported")
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return mismatch(d.String(), "manifest does not parse: %v", err)
	}
	return v.image(d, &m, checkRevision)
}

func isManifestType(mt types.MediaType) bool {
	return mt == "application/vnd.oci.artifact.manifest.v1+json"
}

func (v *verifier) image(d name.Digest, m *v1.Manifest, checkRevision bool) error {
	// The config is small: always hashed in full.
	cfg, err := v.s.readBlob(v.repo, m.Config, 0)
	if err != nil {
		return prefix("config", err)
	}
	if v.opts.Revision != "" && checkRevision && (m.Config.MediaType.IsConfig() || m.Config.MediaType == "") {
		var cf v1.ConfigFile
		if err := json.Unmarshal(cfg, &cf); err != nil {
			return mismatch(d.String(), "config %s does not parse: %v", m.Config.Digest, err)
		}
		got, ok := cf.Config.Labels[RevisionLabel]
		switch {
		case !ok:
			return mismatch(d.String(), "no %s label, want %q", RevisionLabel, v.opts.Revision)
		case got != v.opts.Revision:
			return mismatch(d.String(), "label %s is %q, want %q", RevisionLabel, got, v.opts.Revision)
		}
	}
	g, _ := errgroup.WithContext(v.s.ctx)
	g.SetLimit(v.s.c.jobs)
	for i, l := range m.Layers {
		if !l.MediaType.IsDistributable() {
			continue // foreign layers live elsewhere
		}
		g.Go(func() error { return v.blob(l, fmt.Sprintf("layer %d", i+1)) })
	}
	return g.Wait()
}

// blob checks one blob: size by HEAD, or content in full.
func (v *verifier) blob(desc v1.Descriptor, what string) error {
	if v.opts.Full {
		_, err := v.s.readBlob(v.repo, desc, -1)
		return prefix(what, err)
	}
	d := v.repo.Digest(desc.Digest.String())
	l, err := v.s.puller.Layer(v.s.ctx, d)
	if err != nil {
		return err
	}
	size, err := l.Size()
	switch {
	case isNotFound(err):
		return mismatch(d.String(), "%s is missing", what)
	case err != nil:
		return fmt.Errorf("checking %s %s: %w", what, d, err)
	case size < 0:
		// No Content-Length: hash it instead.
		_, err := v.s.readBlob(v.repo, desc, -1)
		return prefix(what, err)
	case size != desc.Size:
		return mismatch(d.String(), "%s is %d bytes, its manifest says %d", what, size, desc.Size)
	}
	return nil
}

func prefix(what string, err error) error {
	var mm *MismatchError
	if errors.As(err, &mm) && what != "" {
		return &MismatchError{Ref: mm.Ref, What: what + ": " + mm.What}
	}
	return err
}

// readBlob streams blob desc from repo, checks its size and digest, and
// returns its content when keep ≥ 0 (a config, a record), discarding it
// otherwise. A stream cut short is retried on the client's backoff (ggcr's
// retries stop once the answer's headers are in); a size or digest that
// differs is a *MismatchError at once.
func (s *session) readBlob(repo name.Repository, desc v1.Descriptor, keep int64) ([]byte, error) {
	d := repo.Digest(desc.Digest.String())
	if desc.Digest.Algorithm != "sha256" {
		return nil, mismatch(d.String(), "unsupported digest algorithm %q", desc.Digest.Algorithm)
	}
	b := s.c.backoff
	for attempt := 1; ; attempt++ {
		content, err := s.readBlobOnce(d, desc, keep)
		if err == nil || !transient(err) || b.Steps <= 1 {
			return content, err
		}
		wait := b.Step()
		s.c.log.Warn("retrying blob read", "blob", d.String(), "attempt", attempt, "err", err.Error())
		select {
		case <-time.After(wait):
		case <-s.ctx.Done():
			return nil, s.ctx.Err()
		}
	}
}

func (s *session) readBlobOnce(d name.Digest, desc v1.Descriptor, keep int64) ([]byte, error) {
	l, err := s.puller.Layer(s.ctx, d)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if isNotFound(err) {
		return nil, mismatch(d.String(), "blob is missing")
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", d, err)
	}
	defer rc.Close()
	h := sha256.New()
	var w io.Writer = h
	bw := &capWriter{}
	if keep >= 0 {
		w = io.MultiWriter(h, bw)
	}
	// Read at most one byte past the expected size: a blob that keeps
	// going is as wrong as one that stops short.
	n, err := io.Copy(w, io.LimitReader(rc, desc.Size+1))
	got := "sha256:" + hex.EncodeToString(h.Sum(nil))
	switch {
	case err != nil && transient(err) && n < desc.Size:
		return nil, fmt.Errorf("reading %s: %w", d, err)
	case n < desc.Size:
		return nil, mismatch(d.String(), "blob is %d bytes, its manifest says %d", n, desc.Size)
	case n > desc.Size:
		return nil, mismatch(d.String(), "blob is longer than the %d bytes its manifest says", desc.Size)
	case got != desc.Digest.String():
		return nil, mismatch(d.String(), "blob content hashes to %s", got)
	}
	return bw.b, nil
}

type capWriter struct{ b []byte }

func (w *capWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
