package buildpacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Order is an order.toml: groups of buildpacks, tried in turn by the
// detect phase until one group's buildpacks all detect (optional ones may
// not).
type Order []Group

// Group is one group of an order.
type Group struct {
	Group []Entry `json:"group"`
}

// Entry is a buildpack of a group.
type Entry struct {
	ID string `json:"id"`
	// Version is "" where the builder holds one version of the buildpack.
	Version  string `json:"version,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

var (
	// idRE is a buildpack id: letters, digits, '.', '/' and '-' (the
	// Buildpack API's grammar).
	idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9./-]*$`)
	// versionRE is a buildpack version as a directory name.
	versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
)

// check validates an entry's id and version: they become directory names
// and TOML strings.
func (e Entry) check(versionRequired bool) error {
	switch {
	case !idRE.MatchString(e.ID) || len(e.ID) > 256:
		return fmt.Errorf("%q is not a buildpack id (letters, digits, '.', '/', '-')", e.ID)
	case e.ID == "app" || e.ID == "config":
		return fmt.Errorf("%q is a reserved buildpack id", e.ID)
	case e.Version == "" && versionRequired:
		return fmt.Errorf("buildpack %s has no version", e.ID)
	case e.Version != "" && (!versionRE.MatchString(e.Version) || len(e.Version) > 128):
		return fmt.Errorf("%q is not a buildpack version of %s", e.Version, e.ID)
	}
	return nil
}

// String is id@version, or the id alone.
func (e Entry) String() string {
	if e.Version == "" {
		return e.ID
	}
	return e.ID + "@" + e.Version
}

// EscapeID is the directory name of a buildpack id under the buildpacks
// directory, as the lifecycle looks it up: '/' becomes '_'.
func EscapeID(id string) string { return strings.ReplaceAll(id, "/", "_") }

// Dir is where the lifecycle looks for the buildpack, relative to the
// buildpacks directory: <escaped id>/<version>.
func (e Entry) Dir() string { return EscapeID(e.ID) + "/" + e.Version }

// MaxOrder bounds the groups and the entries of an order read from a label.
const MaxOrder = 1000

// ParseOrder reads an order in the JSON form of LabelOrder.
func ParseOrder(s string) (Order, error) {
	var o Order
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, fmt.Errorf("not an order: %w", err)
	}
	if len(o) == 0 {
		return nil, fmt.Errorf("the order has no group")
	}
	n := 0
	for i, g := range o {
		if len(g.Group) == 0 {
			return nil, fmt.Errorf("group %d is empty", i+1)
		}
		for _, e := range g.Group {
			if err := e.check(false); err != nil {
				return nil, fmt.Errorf("group %d: %w", i+1, err)
			}
		}
		if n += len(g.Group); n > MaxOrder {
			return nil, fmt.Errorf("more than %d buildpacks in the order", MaxOrder)
		}
	}
	return o, nil
}

// Inject returns o with before placed at the start and after at the end of
// every group, as a platform adds its buildpacks to a builder's: they are
// required (not optional), so a build whose group does not take them fails
// detection rather than leaving them out unseen.
func Inject(o Order, before, after []Entry) Order {
	out := make(Order, len(o))
	for i, g := range o {
		entries := make([]Entry, 0, len(before)+len(g.Group)+len(after))
		entries = append(entries, before...)
		entries = append(entries, g.Group...)
		entries = append(entries, after...)
		out[i] = Group{Group: entries}
	}
	return out
}

// TOML writes o as the lifecycle reads order.toml. Ids and versions are
// checked (ParseOrder, ReadPackage), so they need no escaping.
func (o Order) TOML() []byte {
	var b bytes.Buffer
	for i, g := range o {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("[[order]]\n")
		for _, e := range g.Group {
			b.WriteString("\n  [[order.group]]\n")
			b.WriteString("    id = " + strconv.Quote(e.ID) + "\n")
			if e.Version != "" {
				b.WriteString("    version = " + strconv.Quote(e.Version) + "\n")
			}
			if e.Optional {
				b.WriteString("    optional = true\n")
			}
		}
	}
	return b.Bytes()
}

// Package is an extra buildpack: a buildpackage image (the form buildpacks
// are published in: its layers hold /cnb/buildpacks/<id>/<version>/…, and
// LabelPackage names the buildpack it is).
type Package struct {
	// Ref is the image, pinned by digest.
	Ref string
	// Entry is the buildpack it holds, as the order names it.
	Entry Entry
}

// PackageDir is where a buildpackage image holds its buildpacks: the
// Engine copies it into the builder's buildpacks directory.
const PackageDir = "/cnb/buildpacks"

// ReadPackage reads the buildpack a buildpackage image holds from its
// LabelPackage label.
func ReadPackage(ref, label string) (Package, error) {
	if label == "" {
		return Package{}, fmt.Errorf("buildpack %s: no label %s: give a buildpackage image (pack buildpack package, or a published buildpack)", ref, LabelPackage)
	}
	var md struct {
		ID      string `json:"id"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal([]byte(label), &md); err != nil {
		return Package{}, fmt.Errorf("buildpack %s: label %s: %w", ref, LabelPackage, err)
	}
	e := Entry{ID: md.ID, Version: md.Version}
	if err := e.check(true); err != nil {
		return Package{}, fmt.Errorf("buildpack %s: label %s: %w", ref, LabelPackage, err)
	}
	return Package{Ref: ref, Entry: e}, nil
}
