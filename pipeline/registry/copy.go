package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// cosignSuffixes are the tags cosign keeps next to an image, as
// sha256-<hex>.<suffix>.
var cosignSuffixes = []string{"sig", "att", "sbom"}

// pendingReferrer is a referrer to copy: res.Referrers[idx], a referrer
// of subject at depth (1: of the image or an index child).
type pendingReferrer struct {
	from, to name.Digest
	subject  string
	depth    int
	idx      int
}

// pendingSignature is a cosign-style tag to copy: res.Tags[idx].
type pendingSignature struct {
	from name.Digest
	to   name.Tag
	idx  int
}

// subjectPlan is what refers to one subject, found in the source.
type subjectPlan struct {
	depth int       // 1 for the image's own referrers (or an index child's)
	found []v1.Hash // every source referrer: the subjects of the next depth
	refs  []ReferrerResult
	from  []name.Digest // per refs entry; zero when nothing to do
	sigs  []TagResult
	sigf  []name.Digest // per sigs entry; zero when nothing to do
}

// maxReferrerDepth is how deep referrers of referrers are followed: an
// image's SBOM is at depth 1, a signature on that SBOM at 2.
const maxReferrerDepth = 4

// planReferrers finds what refers to the source image, and to each child
// of a source index, and is missing in the target: OCI referrers (the
// referrers API, or the tag-schema fallback), their own referrers down to
// maxReferrerDepth, and cosign-style tags of the image and its children.
// It only reads. Referrers already in the target are left alone, so a
// rerun writes nothing; a cosign tag the target already has with other
// content is kept (it may hold signatures added there) and reported as
// Kept. It runs beside plan and keeps its findings to itself until
// mergeReferrers.
func (p *promotion) planReferrers() error {
	s, from, to := p.s, p.req.Source.Context(), p.req.To
	if from.String() == to.String() {
		return nil // same repository: they are already there
	}
	subjects := []v1.Hash{p.src.Digest}
	if p.src.MediaType.IsIndex() {
		var im v1.IndexManifest
		if err := json.Unmarshal(p.src.Manifest, &im); err != nil {
			return fmt.Errorf("parsing index %s: %w", p.req.Source, err)
		}
		for _, m := range im.Manifests {
			subjects = append(subjects, m.Digest)
		}
	}
	for depth := 1; len(subjects) > 0; depth++ {
		if depth > maxReferrerDepth {
			s.c.log.Warn("referrers nested deeper than this are not copied", "depth", maxReferrerDepth, "source", p.req.Source.String())
			break
		}
		plans := make([]subjectPlan, len(subjects))
		g, _ := errgroup.WithContext(s.ctx)
		g.SetLimit(s.c.jobs)
		for i, h := range subjects {
			g.Go(func() (err error) {
				// cosign keeps its tags for images, not for referrers.
				plans[i], err = p.planSubject(from, h, to, depth == 1)
				plans[i].depth = depth
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		subjects = nil
		for _, sp := range plans {
			subjects = append(subjects, sp.found...)
		}
		p.refPlans = append(p.refPlans, plans...)
	}
	return nil
}

// mergeReferrers adds planReferrers' findings to the result and the work
// to do.
func (p *promotion) mergeReferrers() {
	to := p.req.To
	for _, sp := range p.refPlans {
		for i, rr := range sp.refs {
			if sp.from[i] != (name.Digest{}) {
				p.refs = append(p.refs, pendingReferrer{from: sp.from[i], to: to.Digest(rr.Digest), subject: rr.Subject, depth: sp.depth, idx: len(p.res.Referrers)})
			}
			p.res.Referrers = append(p.res.Referrers, rr)
		}
		for i, tr := range sp.sigs {
			if sp.sigf[i] != (name.Digest{}) {
				p.sigs = append(p.sigs, pendingSignature{from: sp.sigf[i], to: to.Tag(tr.Tag), idx: len(p.res.Tags)})
			}
			p.res.Tags = append(p.res.Tags, tr)
		}
	}
	p.refPlans = nil
}

func (p *promotion) planSubject(from name.Repository, h v1.Hash, to name.Repository, cosign bool) (subjectPlan, error) {
	s, dry := p.s, p.req.DryRun
	var sp subjectPlan
	var g errgroup.Group
	g.Go(func() error {
		srcRefs, err := s.referrers(from.Digest(h.String()))
		if err != nil || len(srcRefs) == 0 {
			return err
		}
		dstRefs, err := s.referrers(to.Digest(h.String()))
		if err != nil {
			return err
		}
		have := map[v1.Hash]bool{}
		for _, m := range dstRefs {
			have[m.Digest] = true
		}
		for _, m := range srcRefs {
			sp.found = append(sp.found, m.Digest)
			rr := ReferrerResult{Digest: m.Digest.String(), ArtifactType: m.ArtifactType, Subject: h.String()}
			var f name.Digest
			switch {
			case have[m.Digest]:
				rr.Action = Unchanged
			case dry:
				rr.Action = WouldCopy
			default:
				rr.Action, f = NotDone, from.Digest(m.Digest.String())
			}
			sp.refs, sp.from = append(sp.refs, rr), append(sp.from, f)
		}
		return nil
	})
	suffixes := cosignSuffixes
	if !cosign {
		suffixes = nil
	}
	sigs := make([]*TagResult, len(suffixes))
	sigf := make([]name.Digest, len(suffixes))
	for i, suffix := range suffixes {
		g.Go(func() error {
			tag := strings.Replace(h.String(), ":", "-", 1) + "." + suffix
			cur, ok, err := s.lookup(from.Tag(tag))
			if err != nil || !ok {
				return err
			}
			tr := TagResult{Tag: tag, Kind: KindSignature, To: cur.DigestStr()}
			dcur, dok, err := s.lookup(to.Tag(tag))
			switch {
			case err != nil:
				return err
			case dok && dcur.DigestStr() == cur.DigestStr():
				tr.Action = Unchanged
			case dok:
				tr.Action, tr.To = Kept, dcur.DigestStr()
				s.c.log.Warn("keeping the target's own signature tag", "tag", to.Tag(tag).String(), "target", dcur.DigestStr(), "source", cur.DigestStr())
			case dry:
				tr.Action = WouldCreate
			default:
				tr.Action, sigf[i] = NotDone, cur
			}
			sigs[i] = &tr
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return sp, err
	}
	for i, tr := range sigs {
		if tr != nil {
			sp.sigs, sp.sigf = append(sp.sigs, *tr), append(sp.sigf, sigf[i])
		}
	}
	return sp, nil
}

// applyReferrers copies what planReferrers found missing, after the
// image: depth by depth (a referrer after its subject), subjects side by
// side, and one subject's referrers one after another: on a registry
// without the referrers API each write reads and rewrites the subject's
// fallback index, and two at once would lose one.
func (p *promotion) applyReferrers() error {
	s := p.s
	g, _ := errgroup.WithContext(s.ctx)
	g.SetLimit(s.c.jobs)
	for _, sig := range p.sigs {
		g.Go(func() error {
			desc, err := s.get(sig.from)
			if err != nil {
				return err
			}
			if err := s.pusher.Push(s.ctx, sig.to, desc); err != nil {
				return fmt.Errorf("copying %s: %w", sig.to, err)
			}
			p.res.Tags[sig.idx].Action = Created
			return nil
		})
	}
	err := p.copyReferrers()
	if gerr := g.Wait(); err == nil {
		err = gerr
	}
	p.refs, p.sigs = nil, nil
	return err
}

func (p *promotion) copyReferrers() error {
	s := p.s
	for depth := 1; depth <= maxReferrerDepth; depth++ {
		var order []string
		bySubject := map[string][]pendingReferrer{}
		for _, r := range p.refs {
			if r.depth == depth {
				if bySubject[r.subject] == nil {
					order = append(order, r.subject)
				}
				bySubject[r.subject] = append(bySubject[r.subject], r)
			}
		}
		g, _ := errgroup.WithContext(s.ctx)
		g.SetLimit(s.c.jobs)
		for _, subject := range order {
			g.Go(func() error {
				for _, r := range bySubject[subject] {
					if err := s.copyManifest(r.from, r.to); err != nil {
						return fmt.Errorf("copying referrer %s of %s: %w", r.from.DigestStr(), r.subject, err)
					}
					p.res.Referrers[r.idx].Action = Copied
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// copyDeps copies what src (absent at to, read from the repository from)
// references: an image's blobs, in parallel, each mounted from `from` when
// the registry can (ggcr's Upload checks, mounts, or streams); an index
// goes whole through ggcr's Push (children first, then the index, by
// digest). The caller puts an image's manifest. The manifest is parsed
// once (checkManifest has bounded it): asking ggcr's remote image for each
// layer's media type parses it again per layer. The first failure stops
// the other uploads.
func (s *session) copyDeps(from name.Repository, to name.Digest, src *remote.Descriptor) error {
	if !src.MediaType.IsImage() {
		return s.pusher.Push(s.ctx, to, src)
	}
	m, err := v1.ParseManifest(bytes.NewReader(src.Manifest))
	if err != nil {
		return fmt.Errorf("parsing manifest %s: %w", from.Digest(src.Digest.String()), err)
	}
	g, gctx := errgroup.WithContext(s.ctx)
	g.SetLimit(s.c.jobs)
	if from.RegistryStr() == to.RegistryStr() {
		// Within a registry a blob is a HEAD and a mount, no bytes: an
		// image's blobs go at once (a round trip less for 5 to 8 blobs).
		g.SetLimit(s.c.mountJobs)
	}
	for _, d := range append(slices.Clone(m.Layers), m.Config) {
		if !d.MediaType.IsDistributable() {
			continue // foreign layers are not copied (ggcr's default)
		}
		g.Go(func() error {
			return s.pusher.Upload(gctx, to.Context(), &remote.MountableLayer{
				Layer: &blobLayer{s: s, ctx: gctx, ref: from.Digest(d.Digest.String()), desc: d}, Reference: from.Digest(d.Digest.String())})
		})
	}
	return g.Wait()
}

// blobLayer is a source blob as ggcr's Upload wants it, described by its
// manifest's descriptor: no request until its bytes are needed (a mount
// needs none).
type blobLayer struct {
	s    *session
	ctx  context.Context
	ref  name.Digest
	desc v1.Descriptor
}

func (l *blobLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *blobLayer) DiffID() (v1.Hash, error)            { return v1.Hash{}, errors.New("blobLayer: no diff id") }
func (l *blobLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("blobLayer: not uncompressed")
}

// Compressed streams the blob from the source, verified against its digest.
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	rl, err := l.s.puller.Layer(l.ctx, l.ref)
	if err != nil {
		return nil, err
	}
	return rl.Compressed()
}

// Limits on what Promote copies: far above any image a runtime can run
// (overlayfs stacks at most 128 layers in Docker; a multi-arch index lists
// a few dozen manifests), far below what keeps a promotion busy for
// minutes.
const (
	// MaxLayers is the most layers (config included) a source image may have.
	MaxLayers = 1000
	// MaxIndexManifests is the most manifests a source index may list.
	MaxIndexManifests = 1000
)

// checkManifest parses a manifest about to be copied and refuses one
// Slipway will not copy: unparsable, or over MaxLayers or
// MaxIndexManifests.
func checkManifest(ref name.Digest, desc *remote.Descriptor) error {
	switch {
	case desc.MediaType.IsImage():
		m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return mismatch(ref.String(), "manifest does not parse: %v", err)
		}
		if n := len(m.Layers) + 1; n > MaxLayers {
			return fmt.Errorf("%w: %s has %d layers; Slipway copies images of at most %d", ErrInvalidRequest, ref, n-1, MaxLayers-1)
		}
	case desc.MediaType.IsIndex():
		im, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return mismatch(ref.String(), "index does not parse: %v", err)
		}
		if n := len(im.Manifests); n > MaxIndexManifests {
			return fmt.Errorf("%w: index %s lists %d manifests; Slipway copies indexes of at most %d", ErrInvalidRequest, ref, n, MaxIndexManifests)
		}
	default:
		return fmt.Errorf("%w: %s is a %s, neither an image nor an index", ErrInvalidRequest, ref, desc.MediaType)
	}
	return nil
}

// checkSource reads what copying src from `from` will read, before
// anything is written: every blob of an image (a HEAD each), every child
// of an index (its manifest, checked like src, and its blobs). A source
// that cannot be read then fails the promotion with nothing written in
// the target.
func (s *session) checkSource(from name.Repository, src *remote.Descriptor) error {
	images := []*remote.Descriptor{src}
	if src.MediaType.IsIndex() {
		im, err := v1.ParseIndexManifest(bytes.NewReader(src.Manifest))
		if err != nil {
			return err
		}
		images = make([]*remote.Descriptor, len(im.Manifests))
		g, gctx := errgroup.WithContext(s.ctx)
		g.SetLimit(s.c.jobs)
		for i, c := range im.Manifests {
			g.Go(func() error {
				ref := from.Digest(c.Digest.String())
				gs := *s
				gs.ctx = gctx
				child, err := gs.get(ref)
				if err != nil {
					return fmt.Errorf("reading source: %w", err)
				}
				if err := checkManifest(ref, child); err != nil {
					return err
				}
				images[i] = child
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	g, gctx := errgroup.WithContext(s.ctx)
	g.SetLimit(s.c.jobs)
	for _, desc := range images {
		if !desc.MediaType.IsImage() {
			continue // a nested index: its children are read by the copy
		}
		m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return err
		}
		for _, d := range append(slices.Clone(m.Layers), m.Config) {
			if !d.MediaType.IsDistributable() {
				continue
			}
			ref := from.Digest(d.Digest.String())
			g.Go(func() error {
				l, err := s.puller.Layer(gctx, ref)
				if err == nil {
					var size int64
					if size, err = l.Size(); err == nil && size >= 0 && size != d.Size {
						return mismatch(ref.String(), "blob is %d bytes, the manifest says %d", size, d.Size)
					}
				}
				if err != nil {
					return fmt.Errorf("reading source blob %s: %w", ref, notFound(ref.String(), err))
				}
				return nil
			})
		}
	}
	return g.Wait()
}

// referrers lists the manifests that refer to d.
func (s *session) referrers(d name.Digest) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(d, s.opts()...)
	if err != nil {
		return nil, fmt.Errorf("listing referrers of %s: %w", d, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("listing referrers of %s: %w", d, err)
	}
	return im.Manifests, nil
}

// copyManifest copies the manifest at from (with what it references) to
// the same digest at to. When it is already there, it is put again, which
// repairs a referrers fallback index that missed it.
func (s *session) copyManifest(from, to name.Digest) error {
	desc, err := s.get(from)
	if err != nil {
		return err
	}
	_, exists, err := s.lookup(to)
	if err != nil {
		return err
	}
	if exists {
		return s.pusher.Put(s.ctx, to, desc)
	}
	return s.pusher.Push(s.ctx, to, desc)
}
