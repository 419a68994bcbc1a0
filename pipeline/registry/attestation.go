package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// Attestations are stored twice, so that tools of either generation find
// them, each copy enough on its own:
//
//   - cosign's tag sha256-<hex>.att in the subject's repository: an image
//     whose layers are the DSSE envelopes, laid out as cosign v2.6.1's
//     `cosign attest` writes it (pkg/oci/static, pkg/oci/mutate,
//     pkg/oci/remote.WriteAttestations): manifest and config of the OCI
//     image types, each layer of media type DSSEMediaType annotated with
//     "predicateType" and an empty "dev.cosignproject.cosign/signature" (a
//     DSSE envelope carries its own signatures), the config an image config
//     whose rootfs lists each layer's digest and whose history has an empty
//     entry per layer. Layers already there (cosign's own, an earlier
//     promotion's) are kept; ours are appended, once per envelope.
//     `cosign verify-attestation --key` reads this tag only.
//   - one OCI referrer per envelope: a manifest with the subject's
//     descriptor as subject, artifactType InTotoArtifactType, the OCI empty
//     descriptor as config and the envelope as its one layer (annotated as
//     above). This is cosign's bundle-less referrer layout
//     (pkg/oci/remote.WriteAttestationsReferrer), without its creation
//     time: one envelope's referrer has one digest, so attaching again
//     writes nothing. (cosign's --new-bundle-format referrers carry a
//     Sigstore bundle, not a bare envelope, and are not written here.)
//
// Registries without the referrers API are treated as for promotion
// records (putRecord): ggcr follows the referrer's write with the
// tag-schema fallback index sha256-<hex>, which registries and tools
// without the API (distribution 2.8, oras, crane) list referrers from, and
// which retention keeps with its subject.
//
// Order: every blob first, then the referrers, then the .att manifest, in
// one PUT: a failure anywhere leaves the tag on its previous manifest,
// whose blobs are all there. Registries have no compare-and-swap for tags:
// the .att tag is read, merged and written under a per-process lock, is
// read again just before the write (a change starts over) and after it
// (our layers must be there, else we merge again). What remains is a write
// by another process landing between that last read and our write, and so
// for the fallback index, which ggcr rewrites the same way: each envelope
// is also kept in its own referrer, and Attestations reads both.

const (
	// DSSEMediaType is the media type of a DSSE envelope, the layer of
	// cosign's attestation image and of an attestation referrer (cosign's
	// types.DssePayloadType).
	DSSEMediaType types.MediaType = "application/vnd.dsse.envelope.v1+json"
	// InTotoArtifactType is the artifact type of an attestation referrer
	// (cosign's WriteAttestationsReferrer uses it too: what the envelope
	// carries, an in-toto statement).
	InTotoArtifactType = "application/vnd.in-toto+json"
	// MaxAttestationBytes bounds one envelope, written or read.
	MaxAttestationBytes = 4 << 20
)

const (
	// Layer annotations cosign writes and reads (static.NewAttestation).
	annPredicateType   = "predicateType"
	annCosignSignature = "dev.cosignproject.cosign/signature"
	// maxAttestations bounds the layers of a .att image (cosign refuses to
	// read more: pkg/oci/remote maxLayers) and the attestations read.
	maxAttestations = 1000
	// maxAttestationsBytes bounds what Attestations reads in all.
	maxAttestationsBytes = 64 << 20
	// attAttempts bounds the writes of the .att tag when it keeps moving.
	attAttempts = 5
)

// Attestation is a DSSE envelope (JSON) and the predicate type of the
// in-toto statement it carries. The envelope is stored as it is.
type Attestation struct {
	PredicateType string
	Envelope      []byte
}

// attestationTag is cosign's tag for subject's attestations.
func attestationTag(subject name.Digest) name.Tag {
	return subject.Context().Tag(strings.Replace(subject.DigestStr(), ":", "-", 1) + ".att")
}

// attLayer is an envelope as a layer.
type attLayer struct {
	desc v1.Descriptor
	env  []byte
}

// attestationLayers checks atts and returns their layers, one per
// distinct envelope (the first predicate type given wins).
func attestationLayers(atts []Attestation) ([]attLayer, error) {
	var out []attLayer
	seen := map[v1.Hash]bool{}
	for i, a := range atts {
		switch {
		case a.PredicateType == "" || !utf8.ValidString(a.PredicateType):
			return nil, fmt.Errorf("%w: attestation %d: predicate type %q", ErrInvalidRequest, i, a.PredicateType)
		case len(a.Envelope) == 0 || len(a.Envelope) > MaxAttestationBytes:
			return nil, fmt.Errorf("%w: attestation %d: envelope of %d bytes (1 to %d)", ErrInvalidRequest, i, len(a.Envelope), MaxAttestationBytes)
		case !json.Valid(a.Envelope):
			return nil, fmt.Errorf("%w: attestation %d: the envelope is not JSON", ErrInvalidRequest, i)
		}
		d := descriptorOf(a.Envelope, DSSEMediaType)
		if seen[d.Digest] {
			continue
		}
		seen[d.Digest] = true
		d.Annotations = map[string]string{annPredicateType: a.PredicateType, annCosignSignature: ""}
		out = append(out, attLayer{desc: d, env: a.Envelope})
	}
	return out, nil
}

// AttachAttestations stores atts as attestations of subject, in its
// repository: in cosign's sha256-<hex>.att image (keeping what is there)
// and as OCI referrers of subject (see above). Attaching what is already
// attached writes nothing. A bad attestation is ErrInvalidRequest, a
// missing subject ErrNotFound, a .att tag that is not an image
// ErrVerifyMismatch (it is left alone).
func (c *Client) AttachAttestations(ctx context.Context, subject name.Digest, atts []Attestation) error {
	layers, err := attestationLayers(atts)
	if err != nil || len(layers) == 0 {
		return err
	}
	s, err := c.session(ctx)
	if err != nil {
		return err
	}
	a := &attachment{s: s, subject: subject, repo: subject.Context(), layers: layers, uploaded: map[v1.Hash]bool{}}
	if err := a.referrers(); err != nil {
		return fmt.Errorf("attaching attestations to %s: %w", subject, err)
	}
	if err := a.cosignTag(); err != nil {
		return fmt.Errorf("attaching attestations to %s: %w", subject, err)
	}
	return nil
}

// attachment is one AttachAttestations.
type attachment struct {
	s       *session
	subject name.Digest
	repo    name.Repository
	layers  []attLayer

	mu       sync.Mutex
	uploaded map[v1.Hash]bool
}

// upload uploads blobs to the repository, side by side, each once per
// attachment.
func (a *attachment) upload(blobs ...[]byte) error {
	g, _ := errgroup.WithContext(a.s.ctx)
	g.SetLimit(a.s.c.jobs)
	seen := map[v1.Hash]bool{}
	for _, b := range blobs {
		h := descriptorOf(b, "").Digest
		a.mu.Lock()
		done := a.uploaded[h]
		a.mu.Unlock()
		if done || seen[h] {
			continue
		}
		seen[h] = true
		g.Go(func() error {
			if err := a.s.uploadSmallBlob(a.repo, b); err != nil {
				return fmt.Errorf("writing attestation blob %s: %w", h, err)
			}
			a.mu.Lock()
			a.uploaded[h] = true
			a.mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// referrers writes the referrers the subject lacks: blobs first, then the
// manifests one after another (without the referrers API each rewrites
// the subject's fallback index, and two at once would lose one).
func (a *attachment) referrers() error {
	s := a.s
	var sub *v1.Descriptor
	var have []v1.Descriptor
	var g errgroup.Group
	g.Go(func() (err error) { _, sub, err = s.resolve(a.subject); return err })
	g.Go(func() (err error) { have, err = s.referrers(a.subject); return err })
	if err := g.Wait(); err != nil {
		return err
	}
	there := map[v1.Hash]bool{}
	for _, d := range have {
		there[d.Digest] = true
	}
	type todo struct {
		raw []byte
		d   v1.Hash
	}
	var todos []todo
	var blobs [][]byte
	for _, l := range a.layers {
		raw := attestationReferrer(*sub, l)
		if d := descriptorOf(raw, types.OCIManifestSchema1).Digest; !there[d] {
			todos = append(todos, todo{raw, d})
			blobs = append(blobs, l.env)
		}
	}
	if len(todos) == 0 {
		return nil
	}
	empty := goFuture(func() error { return s.uploadEmpty(a.repo) })
	err := a.upload(blobs...)
	if eerr := empty(); err == nil && eerr != nil {
		err = fmt.Errorf("writing attestation blob: %w", eerr)
	}
	if err != nil {
		return err
	}
	for _, t := range todos {
		if err := a.putReferrer(t.d, t.raw); err != nil {
			return err
		}
	}
	return nil
}

func (a *attachment) putReferrer(d v1.Hash, raw []byte) error {
	// As for records: where the registry has no referrers API, the read
	// of the fallback index ggcr makes after the write goes out beside it.
	if drop := a.s.readAheadFallback(a.subject); drop != nil {
		defer drop()
	}
	if err := a.s.put(a.repo.Digest(d.String()), rawManifest{raw, types.OCIManifestSchema1}); err != nil {
		return fmt.Errorf("writing attestation referrer %s: %w", d, err)
	}
	return nil
}

// attestationReferrer is the referrer manifest of one envelope.
func attestationReferrer(subject v1.Descriptor, l attLayer) []byte {
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  InTotoArtifactType,
		Config:        descriptorOf(emptyJSON, emptyMediaType),
		Layers:        []v1.Descriptor{l.desc},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Size: subject.Size, Digest: subject.Digest},
	}
	raw, _ := json.Marshal(m) // plain data: cannot fail
	return raw
}

// cosignTag appends the envelopes the .att image lacks (see above for the
// order and the races).
func (a *attachment) cosignTag() error {
	s := a.s
	tag := attestationTag(a.subject)
	unlock, err := s.c.locks.lock(s.ctx, "attestations "+tag.String())
	if err != nil {
		return err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		cur, err := s.readAttImage(tag)
		if err != nil {
			return err
		}
		add := a.missingFrom(cur)
		if len(add) == 0 {
			return nil // all there (after our write: read back)
		}
		if attempt > attAttempts {
			return fmt.Errorf("writing %s: it changed under each of %d writes (another writer?)", tag, attAttempts)
		}
		var cfg *v1.ConfigFile
		if cur != nil {
			if cfg, err = s.readAttConfig(tag, cur); err != nil {
				return err
			}
		}
		raw, mt, cfgRaw, err := appendAttestations(cur.manifest(), cfg, add)
		if err != nil {
			return mismatch(tag.String(), "%v", err)
		}
		blobs := [][]byte{cfgRaw}
		for _, l := range add {
			blobs = append(blobs, l.env)
		}
		if err := a.upload(blobs...); err != nil {
			return err
		}
		// Still what we merged? Else merge again with what is there now.
		now, ok, err := s.lookup(tag)
		if err != nil {
			return err
		}
		if ok != (cur != nil) || (ok && now.DigestStr() != cur.digest.String()) {
			s.c.log.Warn("the attestation tag moved while we wrote; merging again", "tag", tag.String())
			continue
		}
		if err := s.put(tag, rawManifest{raw, mt}); err != nil {
			return fmt.Errorf("writing %s: %w", tag, err)
		}
	}
}

// missingFrom lists the layers of the attachment cur lacks.
func (a *attachment) missingFrom(cur *attImage) []attLayer {
	have := map[v1.Hash]bool{}
	if cur != nil {
		for _, l := range cur.m.Layers {
			have[l.Digest] = true
		}
	}
	var add []attLayer
	for _, l := range a.layers {
		if !have[l.desc.Digest] {
			add = append(add, l)
		}
	}
	return add
}

// attImage is a .att image as read.
type attImage struct {
	digest v1.Hash
	mt     types.MediaType
	m      v1.Manifest
}

func (i *attImage) manifest() *v1.Manifest {
	if i == nil {
		return nil
	}
	return &i.m
}

// readAttImage reads the image at tag; nil when there is none. Anything
// but an image manifest of at most maxAttestations layers is a
// *MismatchError.
func (s *session) readAttImage(tag name.Tag) (*attImage, error) {
	desc, err := s.puller.Get(s.ctx, tag)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", tag, err)
	}
	if !desc.MediaType.IsImage() {
		return nil, mismatch(tag.String(), "is a %q, not an image manifest", desc.MediaType)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return nil, mismatch(tag.String(), "manifest does not parse: %v", err)
	}
	if len(m.Layers) > maxAttestations {
		return nil, mismatch(tag.String(), "%d layers, over the limit of %d", len(m.Layers), maxAttestations)
	}
	return &attImage{digest: desc.Digest, mt: desc.MediaType, m: m}, nil
}

// readAttConfig reads and parses the config of a .att image.
func (s *session) readAttConfig(tag name.Tag, cur *attImage) (*v1.ConfigFile, error) {
	c := cur.m.Config
	if c.Size < 0 || c.Size > MaxAttestationBytes {
		return nil, mismatch(tag.String(), "config of %d bytes, over the limit of %d", c.Size, MaxAttestationBytes)
	}
	b, err := s.readBlob(tag.Context(), c, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", tag, err)
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, mismatch(tag.String(), "config does not parse: %v", err)
	}
	return &cfg, nil
}

// appendAttestations is the .att image with add appended to cur (nil:
// none yet), as cosign's mutate.AppendSignatures builds it over its empty
// image: the layers after cur's, each layer's digest added to the config's
// rootfs (envelopes are not compressed: digest and diff id are one) with
// an empty history entry. cfg is cur's config (nil with cur). It returns
// the manifest, its media type, and the config.
func appendAttestations(cur *v1.Manifest, cfg *v1.ConfigFile, add []attLayer) (raw []byte, mt types.MediaType, cfgRaw []byte, err error) {
	var m v1.Manifest
	switch {
	case cur == nil:
		m = v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: v1.Descriptor{MediaType: types.OCIConfigJSON}}
		cfg = &v1.ConfigFile{RootFS: v1.RootFS{Type: "layers"}}
	case cfg == nil:
		return nil, "", nil, errors.New("appending to an image without its config")
	default:
		m = *cur
		m.Layers = slices.Clone(cur.Layers)
		c := *cfg
		c.RootFS.DiffIDs = slices.Clone(cfg.RootFS.DiffIDs)
		c.History = slices.Clone(cfg.History)
		cfg = &c
	}
	if n := len(m.Layers) + len(add); n > maxAttestations {
		return nil, "", nil, fmt.Errorf("%d attestation layers, over cosign's limit of %d", n, maxAttestations)
	}
	for _, l := range add {
		m.Layers = append(m.Layers, l.desc)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.desc.Digest)
		cfg.History = append(cfg.History, v1.History{})
	}
	if cfgRaw, err = json.Marshal(cfg); err != nil {
		return nil, "", nil, err
	}
	cd := descriptorOf(cfgRaw, m.Config.MediaType)
	m.Config.Size, m.Config.Digest = cd.Size, cd.Digest
	if raw, err = json.Marshal(m); err != nil {
		return nil, "", nil, err
	}
	mt = m.MediaType
	if mt == "" {
		mt = types.OCIManifestSchema1
	}
	return raw, mt, cfgRaw, nil
}

// Attestations returns the attestations attached to subject: the DSSE
// layers of its cosign .att image in order (none when the tag is absent),
// then those of its in-toto referrers in the registry's order, each
// envelope once. Envelopes over
// MaxAttestationBytes, more than maxAttestations of them, or a .att tag
// that is not an image are a *MismatchError (ErrVerifyMismatch); a
// referrer that does not parse is skipped and logged (not ours to judge).
func (c *Client) Attestations(ctx context.Context, subject name.Digest) ([]Attestation, error) {
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	var cur *attImage
	var refs []v1.Descriptor
	var g errgroup.Group
	g.Go(func() (err error) { cur, err = s.readAttImage(attestationTag(subject)); return err })
	g.Go(func() (err error) { refs, err = s.referrers(subject); return err })
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("reading attestations of %s: %w", subject, err)
	}
	repo := subject.Context()
	var found []v1.Descriptor
	seen := map[v1.Hash]bool{}
	var total int64
	add := func(layers []v1.Descriptor) error {
		for _, l := range layers {
			if l.MediaType != DSSEMediaType || seen[l.Digest] {
				continue
			}
			ref := repo.Digest(l.Digest.String()).String()
			switch {
			case l.Size < 0 || l.Size > MaxAttestationBytes:
				return mismatch(ref, "attestation of %d bytes, over the limit of %d", l.Size, MaxAttestationBytes)
			case len(found) == maxAttestations:
				return mismatch(subject.String(), "more than %d attestations", maxAttestations)
			case total+l.Size > maxAttestationsBytes:
				return mismatch(subject.String(), "attestations over %d MiB in all", maxAttestationsBytes>>20)
			}
			seen[l.Digest] = true
			total += l.Size
			found = append(found, l)
		}
		return nil
	}
	if cur != nil {
		if err := add(cur.m.Layers); err != nil {
			return nil, err
		}
	}
	ms, err := s.attestationReferrers(subject, refs)
	if err != nil {
		return nil, fmt.Errorf("reading attestations of %s: %w", subject, err)
	}
	for _, m := range ms {
		if err := add(m.Layers); err != nil {
			return nil, err
		}
	}
	out := make([]Attestation, len(found))
	rg, _ := errgroup.WithContext(ctx)
	rg.SetLimit(c.jobs)
	for i, l := range found {
		rg.Go(func() error {
			b, err := s.readBlob(repo, l, 0)
			if err != nil {
				return fmt.Errorf("reading attestation %s: %w", repo.Digest(l.Digest.String()), err)
			}
			out[i] = Attestation{PredicateType: l.Annotations[annPredicateType], Envelope: b}
			return nil
		})
	}
	if err := rg.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// attestationReferrers reads, in refs' order, the manifests among refs
// that are in-toto referrers of subject. Registries list a referrer under
// its artifactType or, some (ggcr's own), its config's media type: both
// are read, and the manifest decides.
func (s *session) attestationReferrers(subject name.Digest, refs []v1.Descriptor) ([]*v1.Manifest, error) {
	var cand []v1.Descriptor
	for _, r := range refs {
		if (r.ArtifactType == InTotoArtifactType || r.ArtifactType == string(emptyMediaType)) && r.MediaType.IsImage() {
			cand = append(cand, r)
		}
	}
	if len(cand) > maxAttestations {
		return nil, mismatch(subject.String(), "%d referrers to read, over the limit of %d", len(cand), maxAttestations)
	}
	ms := make([]*v1.Manifest, len(cand))
	g, _ := errgroup.WithContext(s.ctx)
	g.SetLimit(s.c.jobs)
	for i, r := range cand {
		g.Go(func() error {
			rd := subject.Context().Digest(r.Digest.String())
			desc, err := s.get(rd)
			if err != nil {
				if errors.Is(err, ErrVerifyMismatch) || isNotFoundErr(err) {
					s.c.log.Warn("skipping attestation referrer", "referrer", rd.String(), "reason", err.Error())
					return nil
				}
				return err
			}
			var m v1.Manifest
			switch err := json.Unmarshal(desc.Manifest, &m); {
			case err != nil:
				s.c.log.Warn("skipping attestation referrer", "referrer", rd.String(), "reason", "manifest does not parse: "+err.Error())
			case m.ArtifactType != InTotoArtifactType:
				// another artifact with an empty config (a promotion record)
			case m.Subject == nil || m.Subject.Digest.String() != subject.DigestStr():
				s.c.log.Warn("skipping attestation referrer", "referrer", rd.String(), "reason", "not a referrer of "+subject.DigestStr())
			default:
				ms[i] = &m
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ms, func(m *v1.Manifest) bool { return m == nil }), nil
}
