package retention

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// InUse is what an in-use list names in one repository.
type InUse struct {
	Digests []v1.Hash
	Tags    []string
	// Other counts refs to other repositories, which are ignored.
	Other int
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ParseInUse reads an in-use list (--in-use FILE): one ref or digest a line,
// e.g. what is deployed. Blank lines and lines starting with # are skipped.
// A line is a digest (sha256:…), a bare tag of repo, or a full reference
// (repo:tag, repo@sha256:…, repo:tag@sha256:…); references to other
// repositories are counted and ignored. Any other line is an error naming it.
func ParseInUse(r io.Reader, repo name.Repository) (InUse, error) {
	var in InUse
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := in.add(line, repo); err != nil {
			return InUse{}, fmt.Errorf("in-use line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return InUse{}, fmt.Errorf("reading in-use list: %w", err)
	}
	return in, nil
}

func (in *InUse) add(line string, repo name.Repository) error {
	if strings.HasPrefix(line, "sha256:") {
		h, err := v1.NewHash(line)
		if err != nil {
			return fmt.Errorf("%q is not a digest: %w", line, err)
		}
		in.Digests = append(in.Digests, h)
		return nil
	}
	if tagRE.MatchString(line) && !strings.Contains(line, "/") {
		if _, err := name.NewTag(repo.String()+":"+line, name.StrictValidation); err == nil {
			in.Tags = append(in.Tags, line)
			return nil
		}
	}
	// A full reference; repo:tag@digest keeps both the tag and the digest.
	base, _, hasDigest := strings.Cut(line, "@")
	explicitTag := strings.Contains(base[strings.LastIndex(base, "/")+1:], ":")
	if hasDigest {
		d, err := name.NewDigest(line, name.StrictValidation)
		if err != nil {
			return fmt.Errorf("%q is not a reference: %w", line, err)
		}
		if d.Context().Name() != repo.Name() {
			in.Other++
			return nil
		}
		h, err := v1.NewHash(d.DigestStr())
		if err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
		in.Digests = append(in.Digests, h)
		if explicitTag {
			if t, err := name.NewTag(base, name.StrictValidation); err == nil {
				in.Tags = append(in.Tags, t.TagStr())
			}
		}
		return nil
	}
	t, err := name.NewTag(line, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("%q is not a reference: %w", line, err)
	}
	if t.Context().Name() != repo.Name() {
		in.Other++
		return nil
	}
	in.Tags = append(in.Tags, t.TagStr())
	return nil
}

// WritePlan writes p as indented JSON; the same plan always writes the same bytes.
func WritePlan(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

// ErrBadPlan marks a plan file that cannot be applied as written.
var ErrBadPlan = errors.New("bad plan")

// ReadPlan reads a plan written by WritePlan (a reviewed plan for --apply),
// refusing unknown fields, other versions, bad digests and tags, and
// unknown actions.
func ReadPlan(r io.Reader) (*Plan, error) {
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPlan, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the plan", ErrBadPlan)
	}
	if p.Version != PlanVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadPlan, p.Version, PlanVersion)
	}
	if _, err := name.NewRepository(p.Repo, name.StrictValidation); err != nil {
		return nil, fmt.Errorf("%w: repo %q: %w", ErrBadPlan, p.Repo, err)
	}
	for i, it := range p.Items {
		if err := checkItem(it); err != nil {
			return nil, fmt.Errorf("%w: items[%d]: %w", ErrBadPlan, i, err)
		}
	}
	return &p, nil
}

func checkItem(it Item) error {
	if _, err := v1.NewHash(it.Digest); err != nil {
		return fmt.Errorf("digest %q: %w", it.Digest, err)
	}
	switch it.Action {
	case ActionDelete:
		if it.Tag != "" {
			return errors.New("a delete item has no tag (its tags go in tags)")
		}
		for _, t := range it.Tags {
			if !tagRE.MatchString(t) {
				return fmt.Errorf("tag %q is not a tag", t)
			}
		}
	case ActionUntag:
		if !tagRE.MatchString(it.Tag) {
			return fmt.Errorf("tag %q is not a tag", it.Tag)
		}
		if _, ok := FallbackSubject(it.Tag); ok {
			return fmt.Errorf("tag %q is a referrers fallback tag, never untagged alone", it.Tag)
		}
		if _, ok := CosignSubject(it.Tag); ok {
			return fmt.Errorf("tag %q is cosign's tag of its subject, never untagged alone", it.Tag)
		}
	default:
		return fmt.Errorf("unknown action %q", it.Action)
	}
	if it.Wave < 0 || it.Wave > 1000 {
		return fmt.Errorf("wave %d out of range", it.Wave)
	}
	return nil
}
