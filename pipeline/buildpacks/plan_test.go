package buildpacks

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
)

const (
	builderRef = "docker.io/paketobuildpacks/builder-jammy-base@sha256:5a5b8b2e44c5a2c56a6e4b1d0c2f8d5e3b4a9c7d1e2f3a4b5c6d7e8f9a0b1c2d"
	procfile   = "docker.io/paketobuildpacks/procfile@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	runPinned  = "docker.io/paketobuildpacks/run-jammy-base@sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
	paketoMD   = `{"description":"Ubuntu 22.04 Jammy Jellyfish base image","stack":{"runImage":{"image":"index.docker.io/paketobuildpacks/run-jammy-base:latest","mirrors":[]}},"images":[{"image":"index.docker.io/paketobuildpacks/run-jammy-base:latest"}],"lifecycle":{"version":"0.20.5"}}`
	apis014    = `{"buildpack":{"deprecated":["0.2"],"supported":["0.2","0.10","0.11"]},"platform":{"deprecated":["0.3"],"supported":["0.3","0.12","0.13","0.14"]}}`
	order2     = `[{"group":[{"id":"paketo-buildpacks/ca-certificates","version":"3.8.6","optional":true},{"id":"paketo-buildpacks/node-engine","version":"4.1.4"}]},{"group":[{"id":"paketo-buildpacks/go"}]}]`
)

func builderImage(labels map[string]string) Image {
	return Image{Labels: labels, Env: map[string]string{EnvUID: "1001", EnvGID: "1000"}}
}

func TestReadBuilder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		img     Image
		want    Builder
		wantErr string
	}{
		{"paketo-like", builderImage(map[string]string{LabelBuilderMetadata: paketoMD, LabelLifecycleAPIs: apis014, LabelOrder: order2}),
			Builder{Ref: builderRef, UID: 1001, GID: 1000, PlatformAPI: "0.14", RunImage: "index.docker.io/paketobuildpacks/run-jammy-base:latest",
				Order: Order{{Group: []Entry{{ID: "paketo-buildpacks/ca-certificates", Version: "3.8.6", Optional: true}, {ID: "paketo-buildpacks/node-engine", Version: "4.1.4"}}}, {Group: []Entry{{ID: "paketo-buildpacks/go"}}}}}, ""},
		{"older lifecycle: the newest API both speak", builderImage(map[string]string{LabelLifecycleAPIs: `{"platform":{"supported":["0.9","0.10","0.11","0.12"]}}`}),
			Builder{Ref: builderRef, UID: 1001, GID: 1000, PlatformAPI: "0.12"}, ""},
		{"a deprecated API still works", builderImage(map[string]string{LabelLifecycleAPIs: `{"platform":{"deprecated":["0.13"],"supported":["0.7"]}}`}),
			Builder{Ref: builderRef, UID: 1001, GID: 1000, PlatformAPI: "0.13"}, ""},
		{"the APIs from the builder metadata", builderImage(map[string]string{LabelBuilderMetadata: `{"stack":{"runImage":{"image":"r@sha256:` + strings.Repeat("a", 64) + `"}},"lifecycle":{"apis":{"platform":{"supported":["0.13"]}}}}`}),
			Builder{Ref: builderRef, UID: 1001, GID: 1000, PlatformAPI: "0.13", RunImage: "r@sha256:" + strings.Repeat("a", 64)}, ""},
		{"no labels: the oldest API", builderImage(nil), Builder{Ref: builderRef, UID: 1001, GID: 1000, PlatformAPI: "0.12"}, ""},
		{"lifecycle too old", builderImage(map[string]string{LabelLifecycleAPIs: `{"platform":{"supported":["0.7","0.8"]}}`}), Builder{},
			"builder " + builderRef + ": its lifecycle supports the Platform APIs 0.7, 0.8; Slipway needs one of 0.12, 0.13, 0.14 (export to an OCI layout): use a builder with lifecycle v0.15 or newer"},
		{"no user", Image{Env: map[string]string{EnvGID: "1000"}}, Builder{},
			"builder " + builderRef + ": CNB_USER_ID: not set: a builder image sets its build user's id"},
		{"bad group", Image{Env: map[string]string{EnvUID: "1000", EnvGID: "cnb"}}, Builder{},
			"builder " + builderRef + `: CNB_GROUP_ID: "cnb" is not a user or group id`},
		{"bad order label", builderImage(map[string]string{LabelOrder: `[{"group":[{"id":"../x"}]}]`}), Builder{},
			"builder " + builderRef + ": label io.buildpacks.buildpack.order: group 1: \"../x\" is not a buildpack id (letters, digits, '.', '/', '-')"},
		{"empty order", builderImage(map[string]string{LabelOrder: `[]`}), Builder{},
			"builder " + builderRef + ": label io.buildpacks.buildpack.order: the order has no group"},
		{"metadata not JSON", builderImage(map[string]string{LabelBuilderMetadata: `{`}), Builder{},
			"builder " + builderRef + ": label io.buildpacks.builder.metadata: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadBuilder(builderRef, tt.img)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadPackage(t *testing.T) {
	t.Parallel()
	tests := []struct{ label, want, wantErr string }{
		{`{"id":"paketo-buildpacks/procfile","version":"5.6.1","homepage":"https://x","stacks":[{"id":"*"}]}`, "paketo-buildpacks_procfile/5.6.1", ""},
		{"", "", "buildpack " + procfile + ": no label io.buildpacks.buildpackage.metadata: give a buildpackage image (pack buildpack package, or a published buildpack)"},
		{`{"id":"x"}`, "", "buildpack " + procfile + ": label io.buildpacks.buildpackage.metadata: buildpack x has no version"},
		{`{"id":"x","version":"../1"}`, "", "buildpack " + procfile + `: label io.buildpacks.buildpackage.metadata: "../1" is not a buildpack version of x`},
		{`{"id":"..","version":"1"}`, "", "buildpack " + procfile + `: label io.buildpacks.buildpackage.metadata: ".." is not a buildpack id (letters, digits, '.', '/', '-')`},
		{`{"id":"app","version":"1"}`, "", "buildpack " + procfile + `: label io.buildpacks.buildpackage.metadata: "app" is a reserved buildpack id`},
		{`[1]`, "", "buildpack " + procfile + ": label io.buildpacks.buildpackage.metadata: json: cannot unmarshal array into Go value of type struct { ID string \"json:\\\"id\\\"\"; Version string \"json:\\\"version\\\"\" }"},
	}
	for _, tt := range tests {
		p, err := ReadPackage(procfile, tt.label)
		switch {
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("ReadPackage(%s): error %v\nwant %s", tt.label, err, tt.wantErr)
		case tt.wantErr == "" && err != nil:
			t.Errorf("ReadPackage(%s): %v", tt.label, err)
		case tt.wantErr == "" && p.Entry.Dir() != tt.want:
			t.Errorf("ReadPackage(%s): dir %s, want %s", tt.label, p.Entry.Dir(), tt.want)
		}
	}
}

func TestInjectAndTOML(t *testing.T) {
	t.Parallel()
	o, err := ParseOrder(order2)
	if err != nil {
		t.Fatal(err)
	}
	pre := Entry{ID: "acme/certs", Version: "1.0.0"}
	post := Entry{ID: "paketo-buildpacks/procfile", Version: "5.6.1"}
	got := string(Inject(o, []Entry{pre}, []Entry{post}).TOML())
	want := `[[order]]

  [[order.group]]
    id = "acme/certs"
    version = "1.0.0"

  [[order.group]]
    id = "paketo-buildpacks/ca-certificates"
    version = "3.8.6"
    optional = true

  [[order.group]]
    id = "paketo-buildpacks/node-engine"
    version = "4.1.4"

  [[order.group]]
    id = "paketo-buildpacks/procfile"
    version = "5.6.1"

[[order]]

  [[order.group]]
    id = "acme/certs"
    version = "1.0.0"

  [[order.group]]
    id = "paketo-buildpacks/go"

  [[order.group]]
    id = "paketo-buildpacks/procfile"
    version = "5.6.1"
`
	if got != want {
		t.Errorf("order.toml:\n%s\nwant:\n%s", got, want)
	}
	if len(o[0].Group) != 2 {
		t.Error("Inject changed the builder's order")
	}
}

func TestLayoutPath(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]string{
		OutputRef: "/l/slipway.invalid/app/build",
		"busybox@sha256:" + strings.Repeat("b", 64):              "/l/index.docker.io/library/busybox/sha256/" + strings.Repeat("b", 64),
		"localhost:5000/a/run@sha256:" + strings.Repeat("c", 64): "/l/localhost:5000/a/run/sha256/" + strings.Repeat("c", 64),
	} {
		got, err := LayoutPath("/l", ref)
		if err != nil || got != want {
			t.Errorf("LayoutPath(%s) = %s, %v; want %s", ref, got, err, want)
		}
	}
	if _, err := LayoutPath("/l", "UPPER/case"); err == nil {
		t.Error("an invalid ref has a path")
	}
}

func paketo(t *testing.T) Builder {
	t.Helper()
	b, err := ReadBuilder(builderRef, builderImage(map[string]string{LabelBuilderMetadata: paketoMD, LabelLifecycleAPIs: apis014, LabelOrder: order2}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNewPlan pins the whole invocation: the files, the directories and
// each step's argv for a build with extra buildpacks and env.
func TestNewPlan(t *testing.T) {
	t.Parallel()
	cfg := config.Buildpacks{
		Builder:    builderRef,
		Buildpacks: []string{procfile},
		Env:        map[string]string{"BP_NODE_VERSION": "22", "BP_LOG_LEVEL": "DEBUG"},
		RunImage:   runPinned,
	}
	pkg := Package{Ref: procfile, Entry: Entry{ID: "paketo-buildpacks/procfile", Version: "5.6.1"}}
	p, err := NewPlan(cfg, "linux/amd64", paketo(t), []Package{pkg}, DefaultLayout())
	if err != nil {
		t.Fatal(err)
	}
	runDir := "/slipway/layout/index.docker.io/paketobuildpacks/run-jammy-base/sha256/9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
	wantSteps := [][]string{
		{"tar", "-x", "-f", "/slipway/run.tar", "-C", runDir},
		{"/cnb/lifecycle/creator",
			"-app", "/workspace", "-layers", "/layers", "-platform", "/platform",
			"-buildpacks", "/cnb/buildpacks", "-order", "/slipway/order.toml", "-build-config", "/cnb/build-config",
			"-launcher", "/cnb/lifecycle/launcher", "-launcher-sbom", "/cnb/lifecycle", "-run", "/cnb/run.toml",
			"-run-image", runPinned, "-layout", "-layout-dir", "/slipway/layout",
			"-uid", "1001", "-gid", "1000", "-no-color", "slipway.invalid/app:build"},
		{"tar", "-c", "-f", "/slipway/image.tar", "-C", "/slipway/layout/slipway.invalid/app/build", "index.json", "oci-layout", "blobs"},
	}
	if !reflect.DeepEqual(p.Steps, wantSteps) {
		t.Errorf("steps:\n%q\nwant:\n%q", p.Steps, wantSteps)
	}
	if want := []string{"CNB_PLATFORM_API=0.14", "CNB_EXPERIMENTAL_MODE=warn"}; !slices.Equal(p.Env, want) {
		t.Errorf("env %v, want %v", p.Env, want)
	}
	if want := []string{"/layers", "/platform", "/platform/env", "/slipway", "/slipway/layout", runDir}; !slices.Equal(p.Dirs, want) {
		t.Errorf("dirs %v, want %v", p.Dirs, want)
	}
	var paths []string
	for _, f := range p.Files {
		paths = append(paths, f.Path)
	}
	if want := []string{"/slipway/order.toml", "/platform/env/BP_LOG_LEVEL", "/platform/env/BP_NODE_VERSION"}; !slices.Equal(paths, want) {
		t.Errorf("files %v, want %v", paths, want)
	}
	if p.Files[2].Contents != "22" {
		t.Errorf("BP_NODE_VERSION file holds %q", p.Files[2].Contents)
	}
	if !strings.Contains(p.Files[0].Contents, `id = "paketo-buildpacks/procfile"`) || p.Order[1].Group[1] != pkg.Entry {
		t.Errorf("the order does not end its groups with the extra buildpack:\n%s", p.Files[0].Contents)
	}
	if p.Owner != "1001:1000" || p.Output != "/slipway/image.tar" || p.RunImage != runPinned || p.Platform != "linux/amd64" {
		t.Errorf("plan %+v", p)
	}
}

func TestNewPlanRunImageAndOrder(t *testing.T) {
	t.Parallel()
	pinnedMD := `{"images":[{"image":"` + runPinned + `"}]}`
	pkg := Package{Ref: procfile, Entry: Entry{ID: "paketo-buildpacks/procfile", Version: "5.6.1"}}
	tests := []struct {
		name      string
		cfg       config.Buildpacks
		labels    map[string]string
		pkgs      []Package
		wantErr   string
		wantOrder string // -order
		wantGroup []string
	}{
		{"the builder's pinned run image and its own order", config.Buildpacks{Builder: builderRef},
			map[string]string{LabelBuilderMetadata: pinnedMD, LabelOrder: order2}, nil, "", "/cnb/order.toml",
			[]string{"paketo-buildpacks/ca-certificates@3.8.6", "paketo-buildpacks/node-engine@4.1.4"}},
		{"the builder's run image by tag", config.Buildpacks{Builder: builderRef},
			map[string]string{LabelBuilderMetadata: paketoMD}, nil,
			"build.buildpacks.runImage: the builder's run image index.docker.io/paketobuildpacks/run-jammy-base:latest is not pinned by digest: set build.buildpacks.runImage to the run image your platform deploys on, pinned (REPO@sha256:…)", "", nil},
		{"no run image anywhere", config.Buildpacks{Builder: builderRef}, nil, nil,
			"build.buildpacks.runImage: the builder " + builderRef + " names no run image: set build.buildpacks.runImage (REPO@sha256:…)", "", nil},
		{"extras before the builder's group", config.Buildpacks{Builder: builderRef, RunImage: runPinned, Buildpacks: []string{procfile, config.FromBuilder}},
			map[string]string{LabelOrder: order2}, []Package{pkg}, "", "/slipway/order.toml",
			[]string{"paketo-buildpacks/procfile@5.6.1", "paketo-buildpacks/ca-certificates@3.8.6", "paketo-buildpacks/node-engine@4.1.4"}},
		{"extras after from=builder", config.Buildpacks{Builder: builderRef, RunImage: runPinned, Buildpacks: []string{config.FromBuilder, procfile}},
			map[string]string{LabelOrder: order2}, []Package{pkg}, "", "/slipway/order.toml",
			[]string{"paketo-buildpacks/ca-certificates@3.8.6", "paketo-buildpacks/node-engine@4.1.4", "paketo-buildpacks/procfile@5.6.1"}},
		{"extras without the builder's order", config.Buildpacks{Builder: builderRef, RunImage: runPinned, Buildpacks: []string{procfile}},
			nil, []Package{pkg}, "build.buildpacks.buildpacks: the builder " + builderRef + " has no label io.buildpacks.buildpack.order: its order is unknown, so no buildpack can be added to it", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := ReadBuilder(builderRef, builderImage(tt.labels))
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewPlan(tt.cfg, "linux/amd64", b, tt.pkgs, DefaultLayout())
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			creator := p.Steps[1]
			if i := slices.Index(creator, "-order"); creator[i+1] != tt.wantOrder {
				t.Errorf("-order %s, want %s", creator[i+1], tt.wantOrder)
			}
			var group []string
			for _, e := range p.Order[0].Group {
				group = append(group, e.String())
			}
			if !slices.Equal(group, tt.wantGroup) {
				t.Errorf("first group %v, want %v", group, tt.wantGroup)
			}
		})
	}
}

// fakeEngine records what Build asks of an Engine.
type fakeEngine struct {
	images   map[string]Image
	inspects []string
	runs     []*Plan
	runErr   error
}

func (f *fakeEngine) Inspect(_ context.Context, ref, platform string, labels, env []string) (Image, error) {
	f.inspects = append(f.inspects, ref+" "+platform+" "+strings.Join(labels, ",")+" "+strings.Join(env, ","))
	img, ok := f.images[ref]
	if !ok {
		return Image{}, errors.New("pull access denied")
	}
	return img, nil
}

func (f *fakeEngine) Run(_ context.Context, p *Plan) (string, error) {
	f.runs = append(f.runs, p)
	return "image", f.runErr
}

// TestBuild: the Engine contract with a fake engine: what is inspected,
// in which order, for which platform, and what each failure says.
func TestBuild(t *testing.T) {
	t.Parallel()
	okImages := func() map[string]Image {
		return map[string]Image{
			builderRef: builderImage(map[string]string{LabelBuilderMetadata: paketoMD, LabelLifecycleAPIs: apis014, LabelOrder: order2}),
			procfile:   {Labels: map[string]string{LabelPackage: `{"id":"paketo-buildpacks/procfile","version":"5.6.1"}`}},
		}
	}
	cfg := config.Buildpacks{Builder: builderRef, RunImage: runPinned, Buildpacks: []string{config.FromBuilder, procfile}}
	tests := []struct {
		name     string
		images   func() map[string]Image
		runErr   error
		wantErr  string
		inspects int
		runs     int
	}{
		{"builds", okImages, nil, "", 2, 1},
		{"the builder cannot be pulled", func() map[string]Image { return nil }, nil,
			"reading the builder " + builderRef + ": pull access denied", 1, 0},
		{"the buildpack is no buildpackage", func() map[string]Image {
			m := okImages()
			m[procfile] = Image{}
			return m
		}, nil, "buildpack " + procfile + ": no label io.buildpacks.buildpackage.metadata: give a buildpackage image (pack buildpack package, or a published buildpack)", 2, 0},
		{"the lifecycle fails", okImages, errors.New("exec /cnb/lifecycle/creator: exit 51: ERROR: No buildpack groups passed detection."), "building with the builder " + builderRef + ": exec /cnb/lifecycle/creator: exit 51: ERROR: No buildpack groups passed detection.", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &fakeEngine{images: tt.images(), runErr: tt.runErr}
			out, p, err := Build(context.Background(), e, cfg, "linux/arm64", DefaultLayout())
			switch {
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("error %v\nwant %s", err, tt.wantErr)
			case tt.wantErr == "" && (err != nil || out != "image"):
				t.Fatalf("Build = %q, %v", out, err)
			}
			if len(e.inspects) != tt.inspects || len(e.runs) != tt.runs {
				t.Fatalf("inspects %q, runs %d", e.inspects, len(e.runs))
			}
			if want := builderRef + " linux/arm64 " + strings.Join(BuilderLabels, ",") + " " + strings.Join(BuilderEnv, ","); e.inspects[0] != want {
				t.Errorf("first inspect %q, want %q", e.inspects[0], want)
			}
			if tt.inspects > 1 && e.inspects[1] != procfile+" linux/arm64 "+LabelPackage+" " {
				t.Errorf("second inspect %q", e.inspects[1])
			}
			if tt.runs > 0 {
				if p != e.runs[0] || p.Platform != "linux/arm64" || len(p.Packages) != 1 || p.Packages[0].Ref != procfile {
					t.Errorf("ran %+v, returned %+v", e.runs[0], p)
				}
			}
		})
	}
}
