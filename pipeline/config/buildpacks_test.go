package config

import "testing"

const (
	testBuilder = "docker.io/paketobuildpacks/builder-jammy-base@sha256:5a5b8b2e44c5a2c56a6e4b1d0c2f8d5e3b4a9c7d1e2f3a4b5c6d7e8f9a0b1c2d"
	testPackage = "docker.io/paketobuildpacks/procfile@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// TestBuildpacksErrors: every problem of build.buildpacks is reported on
// the field at fault, with its line.
func TestBuildpacksErrors(t *testing.T) {
	t.Parallel()
	tests := []loadErrorCase{
		{"pinned builder", "build:\n  buildpacks: {builder: \"" + testBuilder + "\"}\n", nil},
		{"builder by tag", "build:\n  buildpacks:\n    builder: paketobuildpacks/builder-jammy-base:latest\n",
			[]string{`line 3: build.buildpacks.builder: "paketobuildpacks/builder-jammy-base:latest" must be pinned by digest (repo@sha256:…): a builder change is then a change of slipway.yaml, which the gate judges like any other`}},
		{"no builder", "build:\n  buildpacks:\n    env: {BP_X: \"1\"}\n",
			[]string{`line 3: build.buildpacks.builder: must be set: the builder image, pinned by digest (repo@sha256:…)`}},
		{"extra buildpacks", "build:\n  buildpacks:\n    builder: \"" + testBuilder + "\"\n    buildpacks: [from=builder, \"" + testPackage + "\"]\n", nil},
		{"extra buildpack by tag, twice, from=builder twice", "build:\n  buildpacks:\n    builder: \"" + testBuilder + "\"\n    buildpacks: [paketo/procfile:5, from=builder, from=builder, \"" + testPackage + "\", \"" + testPackage + "\"]\n",
			[]string{
				`line 4: build.buildpacks.buildpacks[0]: "paketo/procfile:5" is not a buildpack image pinned by digest (repo@sha256:…) or from=builder`,
				`line 4: build.buildpacks.buildpacks[2]: duplicate entry "from=builder"`,
				`line 4: build.buildpacks.buildpacks[4]: duplicate entry "` + testPackage + `"`,
			}},
		{"env names", "build:\n  buildpacks:\n    builder: \"" + testBuilder + "\"\n    env: {BP_OK: 1, \"1BAD\": x, \"A-B\": y, CNB_USER_ID: \"0\"}\n",
			[]string{
				`line 4: build.buildpacks.env.1BAD: "1BAD" is not an environment variable name (letters, digits and _, not starting with a digit)`,
				`line 4: build.buildpacks.env.A-B: "A-B" is not an environment variable name (letters, digits and _, not starting with a digit)`,
				`line 4: build.buildpacks.env.CNB_USER_ID: CNB_ variables are the lifecycle's own, not the build's environment`,
			}},
		{"run image by tag", "build:\n  buildpacks:\n    builder: \"" + testBuilder + "\"\n    runImage: paketobuildpacks/run-jammy-base:latest\n",
			[]string{`line 4: build.buildpacks.runImage: "paketobuildpacks/run-jammy-base:latest" must be pinned by digest (repo@sha256:…)`}},
		{"two platforms and a target", "build:\n  target: runtime\n  platforms: [linux/amd64, linux/arm64]\n  buildpacks: {builder: \"" + testBuilder + "\"}\n",
			[]string{
				`line 2: build.target: a buildpacks build has no Dockerfile stage: remove it (a runner stage is runner.build.target)`,
				`line 3: build.platforms: a buildpacks build makes the image of one platform, with the builder's variant for it: list one platform`,
			}},
		{"the Dockerfile still builds runner stages", "build:\n  args: {V: \"1\"}\n  buildpacks: {builder: \"" + testBuilder + "\"}\n" +
			"test:\n  suites:\n    - name: e2e\n      run: [x]\n      runner: {build: {target: tests}}\n      services: [{name: app, image: app}]\n", nil},
		{"unknown key", "build:\n  buildpacks: {builder: \"" + testBuilder + "\", runimage: x}\n",
			[]string{`line 2: build.buildpacks.runimage: unknown field (did you mean "runImage"?)`}},
	}
	checkLoadErrors(t, tests)
}

// TestBuildpacksRecipe: README's buildpacks recipe loads as written.
func TestBuildpacksRecipe(t *testing.T) {
	t.Parallel()
	cfg, err := LoadFile("testdata/buildpacks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bp := cfg.Build.Buildpacks
	if bp.IsZero() || len(bp.Buildpacks) != 2 || bp.Buildpacks[0] != FromBuilder || bp.Env["BP_NODE_VERSION"] != "22" {
		t.Errorf("buildpacks = %+v", bp)
	}
	if !Default().Build.Buildpacks.IsZero() {
		t.Error("the default config builds with buildpacks")
	}
}
