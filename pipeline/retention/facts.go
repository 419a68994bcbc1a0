// Package retention decides what a registry clean-up may delete and applies
// that decision. Facts (what the registry holds) and a Policy go into Plan, a
// pure function; the executor (Apply) carries out a Plan through a Backend
// and validates the registry afterwards. Nothing still needed is deleted:
// reachability (tag -> manifest -> index children -> referrers) decides,
// never a tag list alone.
package retention

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// AgeSource says where a tag's age came from, best first.
type AgeSource string

// Age sources, in order of trust.
const (
	// AgeFromPromotion: Slipway's promotion record for that tag.
	AgeFromPromotion AgeSource = "promotion-record"
	// AgeFromRegistry: the registry API's own time (GHCR created_at).
	AgeFromRegistry AgeSource = "registry-time"
	// AgeFromLabel: the org.opencontainers.image.created label or annotation.
	AgeFromLabel AgeSource = "created-label"
	// AgeFromTagDate: a date written in the tag (nightly-2026-02-04).
	AgeFromTagDate AgeSource = "tag-date"
	// AgeUnknown: no trusted source; the tag is kept.
	AgeUnknown AgeSource = "unknown"
)

// CreatedLabel is the OCI label and annotation an image's age is read from.
// The config's own "created" field is not trusted: reproducible builds pin it.
const CreatedLabel = "org.opencontainers.image.created"

// Age is when a tag (or a manifest) came to be, and how we know.
type Age struct {
	Time   time.Time `json:"time,omitzero"`
	Source AgeSource `json:"source"`
}

// Known reports whether the age has a trusted source.
func (a Age) Known() bool { return a.Source != "" && a.Source != AgeUnknown && !a.Time.IsZero() }

// Blob is a blob a manifest references (config or layer).
type Blob struct {
	Digest v1.Hash
	Size   int64
}

// Manifest is what the registry holds for one digest.
type Manifest struct {
	Digest    v1.Hash
	MediaType types.MediaType
	// Size of the manifest itself, in bytes.
	Size int64
	// Blobs are the config and layers of an image manifest.
	Blobs []Blob
	// Tags pointing at this digest, including referrers fallback tags
	// (sha256-<hex>) and cosign's (sha256-<hex>.sig|att|sbom), which Plan
	// never matches with a rule.
	Tags []string
	// TagAges holds the age of each tag in Tags.
	TagAges map[string]Age
	// Age of the manifest itself (registry time or created label), used for
	// untagged manifests and as a floor for tagged ones.
	Age Age
	// Children of an index.
	Children []v1.Hash
	// Subject of a referrer (signature, attestation, SBOM), and its
	// artifact type.
	Subject      *v1.Hash
	ArtifactType string
	// ID is the backend's own handle (a GHCR package version id).
	ID string
}

// Facts is everything Plan needs to know about one repository.
type Facts struct {
	// Repo is the repository, e.g. ghcr.io/acme/app.
	Repo      string
	Manifests map[v1.Hash]*Manifest
	// Missing are digests referenced (as an index child or a referrer
	// subject) that the registry does not have.
	Missing []v1.Hash
	// Notes are things worth telling the user (an unparsable label, ...).
	Notes []string
	// Requests is how many registry or API requests gathering took.
	Requests int64
	// KeepLastTagged: the registry refuses to delete the last tagged
	// version of a package (ghcr.io: "You cannot delete the last tagged
	// version of a package. You must delete the package instead."), so a
	// plan keeps the newest tagged manifest when it would delete them all.
	KeepLastTagged bool
}

// TagDigest returns the digest a tag points at.
func (f *Facts) TagDigest(tag string) (v1.Hash, bool) {
	for _, m := range f.Manifests {
		for _, t := range m.Tags {
			if t == tag {
				return m.Digest, true
			}
		}
	}
	return v1.Hash{}, false
}

// tagIndex maps every tag to its digest.
func (f *Facts) tagIndex() map[string]v1.Hash {
	idx := make(map[string]v1.Hash)
	for _, m := range f.Manifests {
		for _, t := range m.Tags {
			idx[t] = m.Digest
		}
	}
	return idx
}

// sortedDigests returns the digests of f in a stable order.
func (f *Facts) sortedDigests() []v1.Hash {
	ds := make([]v1.Hash, 0, len(f.Manifests))
	for d := range f.Manifests {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].String() < ds[j].String() })
	return ds
}

var (
	fallbackTagRE = regexp.MustCompile(`^sha256-[0-9a-f]{64}$`)
	cosignTagRE   = regexp.MustCompile(`^sha256-[0-9a-f]{64}\.(sig|att|sbom)$`)
)

// FallbackSubject returns the subject digest of a referrers fallback tag
// (sha256-<hex>); such tags belong to their subject and no rule matches them.
func FallbackSubject(tag string) (v1.Hash, bool) {
	if !fallbackTagRE.MatchString(tag) {
		return v1.Hash{}, false
	}
	h, err := v1.NewHash(strings.Replace(tag, "-", ":", 1))
	return h, err == nil
}

// CosignSubject returns the subject digest of cosign's signature,
// attestation or SBOM tag (sha256-<hex>.sig, .att, .sbom). Like fallback
// tags they belong to their subject: no rule matches them, they stay while
// it stays and go when it goes. (cosign may keep them in another
// repository, COSIGN_REPOSITORY: there their subject is absent, and they
// stay.)
func CosignSubject(tag string) (v1.Hash, bool) {
	if !cosignTagRE.MatchString(tag) {
		return v1.Hash{}, false
	}
	h, err := v1.NewHash(strings.Replace(tag[:len("sha256-")+64], "-", ":", 1))
	return h, err == nil
}

// subjectTag returns the subject of a tag that belongs to a digest, not
// to a user: a referrers fallback tag or a cosign tag.
func subjectTag(tag string) (v1.Hash, bool) {
	if h, ok := FallbackSubject(tag); ok {
		return h, true
	}
	return CosignSubject(tag)
}

// ResolveAge picks the best age for a tag: the promotion record, then the
// registry's time, then the created label, then a date in the tag.
func ResolveAge(tag string, promoted map[string]time.Time, registryTime, label time.Time) Age {
	if t, ok := promoted[tag]; ok && !t.IsZero() {
		return Age{Time: t, Source: AgeFromPromotion}
	}
	if !registryTime.IsZero() {
		return Age{Time: registryTime, Source: AgeFromRegistry}
	}
	if !label.IsZero() {
		return Age{Time: label, Source: AgeFromLabel}
	}
	if t, ok := tagDate(tag); ok {
		return Age{Time: t, Source: AgeFromTagDate}
	}
	return Age{Source: AgeUnknown}
}

// parseCreated parses an org.opencontainers.image.created value (RFC 3339).
func parseCreated(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// RecordReader reads Slipway's promotion records: OCI artifacts referring to
// a promoted digest, saying which tags were applied and when. The registry
// package provides the real one; nil means no records are read.
type RecordReader interface {
	// PromotionTimes returns when each tag was applied to subject, reading
	// the records among referrers (the subject's referrer descriptors).
	PromotionTimes(ctx context.Context, subject name.Digest, referrers []v1.Descriptor) (map[string]time.Time, error)
}
