package buildpacks

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
)

// FuzzReadBuilder: the labels and environment of a builder image are
// outside input. ReadBuilder never panics; what it accepts has a Platform
// API Slipway speaks, checked ids and versions, and plans an order.toml
// whose every line is one of its three forms with a plain quoted value.
func FuzzReadBuilder(f *testing.F) {
	f.Add(paketoMD, apis014, order2, "1000", "1000")
	f.Add(`{"stack":{"runImage":{"image":"r"}},"lifecycle":{"apis":{"platform":{"supported":["0.12"]}}}}`, "", `[{"group":[{"id":"a.b/c-d","version":"1.2.3+x"}]}]`, "0", "0")
	f.Add("", `{"platform":{"deprecated":["0.14"]}}`, `[{"group":[]}]`, "-1", "x")
	f.Fuzz(func(t *testing.T, metadata, apis, order, uid, gid string) {
		img := Image{
			Labels: map[string]string{LabelBuilderMetadata: metadata, LabelLifecycleAPIs: apis, LabelOrder: order},
			Env:    map[string]string{EnvUID: uid, EnvGID: gid},
		}
		b, err := ReadBuilder(builderRef, img)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if !slices.Contains(PlatformAPIs, b.PlatformAPI) || b.UID < 0 || b.GID < 0 {
			t.Fatalf("accepted %+v", b)
		}
		pkg := Package{Ref: procfile, Entry: Entry{ID: "x/y", Version: "1"}}
		p, err := NewPlan(config.Buildpacks{Builder: builderRef, RunImage: runPinned, Buildpacks: []string{procfile}}, "linux/amd64", b, []Package{pkg}, DefaultLayout())
		if b.Order == nil {
			if err == nil {
				t.Fatal("planned extra buildpacks without the builder's order")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkTOML(t, p.Files[0].Contents)
	})
}

// checkTOML: every line of an order.toml Slipway writes is blank, a table
// header, optional = true, or id/version = "plain text".
func checkTOML(t *testing.T, toml string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(toml, "\n"), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "", l == "[[order]]", l == "[[order.group]]", l == "optional = true":
		case strings.HasPrefix(l, "id = "), strings.HasPrefix(l, "version = "):
			_, v, _ := strings.Cut(l, " = ")
			s, err := strconv.Unquote(v)
			if err != nil || strconv.Quote(s) != v || strings.ContainsAny(s, "\\\"'\n\t ") || s == "" {
				t.Fatalf("value %s needs escaping in TOML", v)
			}
		default:
			t.Fatalf("unexpected order.toml line %q", l)
		}
	}
}

// FuzzReadPackage: a buildpackage's label is outside input; an accepted
// one names a directory inside the buildpacks directory.
func FuzzReadPackage(f *testing.F) {
	f.Add(`{"id":"paketo-buildpacks/procfile","version":"5.6.1"}`)
	f.Add(`{"id":"a/../b","version":".."}`)
	f.Add(`{"id":"x","version":"1/2"}`)
	f.Fuzz(func(t *testing.T, label string) {
		p, err := ReadPackage(procfile, label)
		if err != nil {
			return
		}
		dir := p.Entry.Dir()
		parts := strings.Split(dir, "/")
		if len(parts) != 2 || parts[0] == ".." || parts[1] == ".." || parts[0] == "." || parts[1] == "." || parts[0] == "" || parts[1] == "" {
			t.Fatalf("buildpack directory %q", dir)
		}
		checkTOML(t, string(Order{{Group: []Entry{p.Entry}}}.TOML()))
	})
}
