package buildpacks

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/slipway-ci/slipway/pipeline/config"
)

// LifecycleVersion is the CNB lifecycle the real-lifecycle test builds
// from the Go module proxy (and the tests module's builder compiles).
const LifecycleVersion = "v0.20.5"

var lifecycleOnce struct {
	sync.Mutex
	dir string
}

// lifecycle returns a directory holding the lifecycle and launcher
// binaries of LifecycleVersion, built on first use from the module the Go
// proxy serves, with that module's own go.sum, into the user cache
// directory ($XDG_CACHE_HOME/slipway/lifecycle-VERSION), where later runs
// find them. The directory is renamed into place whole.
func lifecycle(t *testing.T) string {
	t.Helper()
	lifecycleOnce.Lock()
	defer lifecycleOnce.Unlock()
	if lifecycleOnce.dir != "" {
		return lifecycleOnce.dir
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "slipway", "lifecycle-"+LifecycleVersion+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	if _, err := os.Stat(filepath.Join(dir, "launcher")); err == nil {
		lifecycleOnce.dir = dir
		return dir
	}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0")
	dl := exec.Command("go", "mod", "download", "-json", "github.com/buildpacks/lifecycle@"+LifecycleVersion)
	dl.Dir, dl.Env = t.TempDir(), env
	out, err := dl.Output()
	if err != nil {
		t.Fatalf("go mod download github.com/buildpacks/lifecycle@%s: %v\n%s", LifecycleVersion, err, out)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %v: %s", err, out)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	scratch, err := os.MkdirTemp(filepath.Dir(dir), "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(scratch)
	build := exec.Command("go", "build", "-mod=readonly", "-trimpath",
		"-ldflags", "-s -w -X github.com/buildpacks/lifecycle/cmd.Version="+strings.TrimPrefix(LifecycleVersion, "v"),
		"-o", scratch+string(filepath.Separator), "./cmd/lifecycle", "./cmd/launcher")
	build.Dir, build.Env = mod.Dir, env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building lifecycle %s: %v\n%s", LifecycleVersion, err, out)
	}
	if err := os.Rename(scratch, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(filepath.Join(dir, "launcher")); serr != nil {
			t.Fatal(err)
		}
	}
	lifecycleOnce.dir = dir
	return dir
}

// localEngine runs a Plan on this machine: the builder's files are under
// a temporary directory (the Layout's paths), the steps run as this user
// with exec. It is the Engine contract, without containers.
type localEngine struct {
	images   map[string]Image
	packages map[string]string // ref -> the directory playing its PackageDir
	run      v1.Image
	app      string
	inspects []string
}

func (e *localEngine) Inspect(_ context.Context, ref, platform string, labels, env []string) (Image, error) {
	e.inspects = append(e.inspects, ref+" "+platform)
	img, ok := e.images[ref]
	if !ok {
		return Image{}, fmt.Errorf("no image %s", ref)
	}
	out := Image{Labels: map[string]string{}, Env: map[string]string{}}
	for _, l := range labels {
		out.Labels[l] = img.Labels[l]
	}
	for _, v := range env {
		out.Env[v] = img.Env[v]
	}
	return out, nil
}

func (e *localEngine) Run(ctx context.Context, p *Plan) (string, error) {
	for _, pkg := range p.Packages {
		if err := os.CopyFS(p.Layout.Buildpacks(), os.DirFS(e.packages[pkg.Ref])); err != nil {
			return "", err
		}
	}
	if err := os.CopyFS(p.Layout.App, os.DirFS(e.app)); err != nil {
		return "", err
	}
	for _, d := range p.Dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	for _, f := range p.Files {
		if err := os.WriteFile(f.Path, []byte(f.Contents), 0o644); err != nil {
			return "", err
		}
	}
	if err := writeOCITarball(e.run, p.Layout.RunTarball()); err != nil {
		return "", err
	}
	for _, argv := range p.Steps {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), p.Env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out)
		}
	}
	return p.Output, nil
}

// writeOCITarball writes img as an OCI layout in a tar, as the engine's
// Container.asTarball does.
func writeOCITarball(img v1.Image, file string) error {
	dir, err := os.MkdirTemp("", "oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := lp.AppendImage(img); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		return err
	}
	return tw.Close()
}

// testRunImage is a small run image: one layer with /etc/os-release.
func testRunImage(t *testing.T) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("ID=slipway-test\n")
	for _, h := range []*tar.Header{
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "etc/os-release", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = v1.Config{Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}, Labels: map[string]string{"org.example.run": "yes"}}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// TestRealLifecycle builds the sample app with the real creator of
// lifecycle v0.20.5 (built here from the Go module proxy) through Build,
// as the module does but with the builder's files in a temporary
// directory: the test builder's shell buildpack, an extra buildpack
// injected before it, a build-time variable, and a run image given as an
// OCI tarball. It asserts the OCI image the last step writes: the run
// image's layer first, the app, the buildpacks' layers and the launcher in
// the layers, the entrypoint of the default process, the working
// directory, and the lifecycle's labels. Both ends of the Platform APIs
// Slipway speaks are run.
func TestRealLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lifecycle " + LifecycleVersion + " and runs it; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the lifecycle runs on Linux")
	}
	bin := lifecycle(t)
	for _, api := range []string{PlatformAPIs[0], PlatformAPIs[len(PlatformAPIs)-1]} {
		t.Run("platform API "+api, func(t *testing.T) {
			realBuild(t, bin, api)
		})
	}
}

func realBuild(t *testing.T, bin, api string) {
	root := t.TempDir()
	l := Layout{
		CNB: filepath.Join(root, "cnb"), App: filepath.Join(root, "workspace"), Layers: filepath.Join(root, "layers"),
		Platform: filepath.Join(root, "platform"), Work: filepath.Join(root, "slipway"),
	}
	// The builder: the test builder's /cnb and the lifecycle.
	if err := os.CopyFS(l.CNB, os.DirFS("testdata/builder/cnb")); err != nil {
		t.Fatal(err)
	}
	lc := filepath.Join(l.CNB, "lifecycle")
	if err := os.MkdirAll(lc, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"lifecycle", "launcher"} {
		data, err := os.ReadFile(filepath.Join(bin, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(lc, f), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("lifecycle", l.Creator()); err != nil {
		t.Fatal(err)
	}

	run := testRunImage(t)
	runDigest, err := run.Digest()
	if err != nil {
		t.Fatal(err)
	}
	const (
		builderRef = "registry.test/builder@sha256:1111111111111111111111111111111111111111111111111111111111111111"
		stampRef   = "registry.test/stamp@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	cfg := config.Buildpacks{
		Builder:    builderRef,
		Buildpacks: []string{stampRef, config.FromBuilder},
		Env:        map[string]string{"BP_GREETING": "hello from the platform", "BP_PLATFORM": "slipway"},
		RunImage:   "registry.test/run@" + runDigest.String(),
	}
	e := &localEngine{
		images: map[string]Image{
			builderRef: {
				Labels: map[string]string{
					LabelLifecycleAPIs:   `{"buildpack":{"deprecated":[],"supported":["0.10"]},"platform":{"deprecated":[],"supported":["` + api + `"]}}`,
					LabelOrder:           `[{"group":[{"id":"slipway/shell","version":"0.0.1"}]}]`,
					LabelBuilderMetadata: `{"images":[{"image":"registry.test/run:latest"}]}`,
				},
				Env: map[string]string{EnvUID: strconv.Itoa(os.Getuid()), EnvGID: strconv.Itoa(os.Getgid())},
			},
			stampRef: {Labels: map[string]string{LabelPackage: `{"id":"slipway/stamp","version":"0.0.1"}`}},
		},
		packages: map[string]string{stampRef: "testdata/packages/stamp"},
		run:      run,
		app:      "testdata/app",
	}
	platform := "linux/" + runtime.GOARCH
	out, p, err := Build(context.Background(), e, cfg, platform, l)
	if err != nil {
		t.Fatal(err)
	}
	if p.Builder.PlatformAPI != api {
		t.Errorf("platform API %s, want %s", p.Builder.PlatformAPI, api)
	}
	if want := []string{builderRef + " " + platform, stampRef + " " + platform}; !slices.Equal(e.inspects, want) {
		t.Errorf("inspected %v, want %v", e.inspects, want)
	}

	img := readOCITarball(t, out)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/cnb/process/web"}; !slices.Equal(cf.Config.Entrypoint, want) {
		t.Errorf("entrypoint %v, want %v", cf.Config.Entrypoint, want)
	}
	if cf.Config.WorkingDir != l.App {
		t.Errorf("working directory %q, want %q", cf.Config.WorkingDir, l.App)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if cf.Config.Labels["org.example.run"] != "yes" {
		t.Errorf("the run image's label is gone: %v", cf.Config.Labels)
	}
	var build struct {
		Buildpacks []struct{ ID, Version string }
		Processes  []struct{ Type string }
	}
	if err := json.Unmarshal([]byte(cf.Config.Labels["io.buildpacks.build.metadata"]), &build); err != nil {
		t.Fatalf("io.buildpacks.build.metadata: %v", err)
	}
	var ran []string
	for _, b := range build.Buildpacks {
		ran = append(ran, b.ID+"@"+b.Version)
	}
	if want := []string{"slipway/stamp@0.0.1", "slipway/shell@0.0.1"}; !slices.Equal(ran, want) {
		t.Errorf("buildpacks that built: %v, want %v (the extra one injected before the builder's group)", ran, want)
	}
	if len(build.Processes) != 1 || build.Processes[0].Type != "web" {
		t.Errorf("processes %+v", build.Processes)
	}
	if _, ok := cf.Config.Labels["io.buildpacks.lifecycle.metadata"]; !ok {
		t.Error("no io.buildpacks.lifecycle.metadata label")
	}

	// The launcher of the image, with the image's environment, runs a
	// command with the buildpacks' launch environment (GREETING_FILE).
	// The layers it reads are still on disk where the image has them.
	launch := exec.Command(filepath.Join(l.CNB, "lifecycle", "launcher"), "--", "sh", "-c", `cat "$GREETING_FILE"`)
	launch.Env, launch.Dir = cf.Config.Env, l.App
	if got, err := launch.CombinedOutput(); err != nil || string(got) != "hello from the platform\n" {
		t.Errorf("launcher -- sh -c 'cat $GREETING_FILE' with the image's env %q: %q, %v", cf.Config.Env, got, err)
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	runLayers, _ := run.Layers()
	first, _ := layers[0].DiffID()
	want, _ := runLayers[0].DiffID()
	if first != want {
		t.Errorf("the first layer is %s, want the run image's %s", first, want)
	}
	files := imageFiles(t, img)
	rel := func(p string) string { return strings.TrimPrefix(p, "/") }
	for path, content := range map[string]string{
		"etc/os-release":                       "ID=slipway-test\n",
		rel(filepath.Join(l.App, "hello.txt")): "hello from the sample app\n",
		rel(filepath.Join(l.Layers, "slipway_shell", "greeting", "greeting.txt")): "hello from the platform\n",
		rel(filepath.Join(l.Layers, "slipway_stamp", "platform", "stamp.txt")):    "built by slipway\n",
	} {
		got, ok := files[path]
		switch {
		case !ok:
			t.Errorf("the image has no %s", path)
		case got != content:
			t.Errorf("%s = %q, want %q", path, got, content)
		}
	}
	for _, path := range []string{"cnb/lifecycle/launcher", "cnb/process/web", rel(filepath.Join(l.App, "start.sh"))} {
		if _, ok := files[path]; !ok {
			t.Errorf("the image has no %s", path)
		}
	}
}

// readOCITarball reads the one image of an OCI layout tarball.
func readOCITarball(t *testing.T, file string) v1.Image {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("the tarball's index has %d manifests, want 1", len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// imageFiles reads the regular files of img's flattened filesystem (the
// target of a symlink for a link).
func imageFiles(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimPrefix(h.Name, "/")] = string(data)
		case tar.TypeSymlink:
			files[strings.TrimPrefix(h.Name, "/")] = "-> " + h.Linkname
		}
	}
}
