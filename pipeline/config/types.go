// Package config reads slipway.yaml: the schema, its documented defaults,
// strict decoding and validation with errors that name the field path.
//
// Load starts from Default() and overwrites only the keys the file sets: a
// key with no value (null) counts as absent and keeps its default, an
// explicit zero stays (retries: 0), and an explicit [] empties a list whose
// default has items (floating: []). Slipway.schema.json (Schema) describes
// the same fields for editors.
//
// Suites reference matrix axes as ${axis} (see Refs and Expand); $${x} is
// a literal ${x}, so a shell command can still use its own variables.
package config

import (
	"strings"
	"time"
)

// Version is the only slipway.yaml schema version this build understands.
const Version = 1

// Config is a whole slipway.yaml after defaults are applied.
type Config struct {
	// Version of the schema; 1. An absent version means 1.
	Version int `yaml:"version" json:"version"`
	// Image is the repository that receives promoted images, e.g.
	// ghcr.io/acme/app. Empty: the module publishes into an ephemeral
	// registry inside the engine (zero-setup default).
	Image string `yaml:"image" json:"image"`
	// Ephemeral is the zero-setup registry used when Image is empty.
	Ephemeral Ephemeral `yaml:"ephemeral" json:"ephemeral"`
	Build     Build     `yaml:"build" json:"build"`
	// Images, when set, are the several images a run builds (each once),
	// tests together and promotes together; they replace Image and Build.
	// Default none: the run builds the one image of Image and Build, named
	// app.
	Images    []Image   `yaml:"images" json:"images"`
	Test      Test      `yaml:"test" json:"test"`
	Gate      Gate      `yaml:"gate" json:"gate"`
	Scan      Scan      `yaml:"scan" json:"scan"`
	Smoke     Smoke     `yaml:"smoke" json:"smoke"`
	Tags      Tags      `yaml:"tags" json:"tags"`
	Retention Retention `yaml:"retention" json:"retention"`
}

// Ephemeral is the zero-setup registry the module runs inside the engine
// when the config names no image.
type Ephemeral struct {
	// Image is the registry image, pinned by digest (repo@sha256:…): any
	// CNCF distribution image (it listens where REGISTRY_HTTP_ADDR says,
	// and keeps its storage under /var/lib/registry), e.g. a mirror of
	// registry:2 for engines
	// without Docker Hub. Default "": CNCF distribution 2.8.3 from Docker
	// Hub, as this Slipway version pins it.
	Image string `yaml:"image" json:"image"`
	// Project names the project whose ephemeral registry this is: runs of
	// one project share its images and baselines, two projects never do.
	// Default "": the module's --source-url, else the source's git remote
	// origin. A new name starts the project over with an empty registry.
	Project string `yaml:"project" json:"project"`
}

// Build says how the image is built, once per run.
type Build struct {
	// Dockerfile path relative to Context. Default "Dockerfile".
	Dockerfile string `yaml:"dockerfile" json:"dockerfile"`
	// Context directory relative to the repository root. Default ".".
	Context string `yaml:"context" json:"context"`
	// Target stage of a multi-stage Dockerfile. Default: the last stage.
	Target string `yaml:"target" json:"target"`
	// Args are build arguments (ARG). Default none.
	Args map[string]string `yaml:"args" json:"args"`
	// Platforms to build. Default [linux/amd64].
	Platforms []string `yaml:"platforms" json:"platforms"`
	// Buildpacks builds the image with a Cloud Native Buildpacks builder
	// instead of the Dockerfile. Default (zero): the Dockerfile.
	Buildpacks Buildpacks `yaml:"buildpacks" json:"buildpacks"`
}

// Buildpacks builds the image the way a buildpack platform (a Heroku-style
// or Paketo builder with the platform's own buildpacks added) does: the
// builder's lifecycle runs in the builder image against the sources of
// build.context and exports an OCI image on the run image. The Dockerfile
// then builds only the runner stages (runner.build.target).
type Buildpacks struct {
	// Builder is the builder image, pinned by digest (repo@sha256:…).
	// Required when the section is given.
	Builder string `yaml:"builder" json:"builder"`
	// Buildpacks are extra buildpacks the platform adds to the builder's
	// own: buildpackage images pinned by digest, added to every group of
	// the builder's order after the builder's buildpacks, in this order.
	// The entry FromBuilder ("from=builder") stands for the builder's
	// group: the refs before it run before the group, those after it
	// after it. Default none: the builder's order as it is.
	Buildpacks []string `yaml:"buildpacks" json:"buildpacks"`
	// Env is the build-time environment the platform gives the buildpacks
	// (files in the platform directory's env/, e.g. BP_NODE_VERSION).
	// Default none.
	Env map[string]string `yaml:"env" json:"env"`
	// RunImage is the image the app image is built on, pinned by digest.
	// Default "": the builder's own run image, which must then be pinned
	// by digest in the builder's metadata.
	RunImage string `yaml:"runImage" json:"runImage"`
}

// FromBuilder is the entry of build.buildpacks.buildpacks that stands for
// the builder's group (pack's --buildpack from=builder).
const FromBuilder = "from=builder"

// IsZero reports whether b sets nothing: the image is built from the
// Dockerfile.
func (b Buildpacks) IsZero() bool {
	return b.Builder == "" && len(b.Buildpacks) == 0 && len(b.Env) == 0 && b.RunImage == ""
}

// Test is the matrix run against the built image.
type Test struct {
	// Parallelism is how many cells run at once. Default 8, at least 1.
	Parallelism int `yaml:"parallelism" json:"parallelism"`
	// FailFast cancels the other cells after the first failure. Default false.
	FailFast bool `yaml:"failFast" json:"failFast"`
	// Timeout per cell attempt. Default 20m.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Retries of a failing cell; a cell that passes on retry is "flaky". Default 1.
	Retries int `yaml:"retries" json:"retries"`
	// Matrix axes in the order written; a suite uses the axes it references
	// as ${axis}.
	Matrix Matrix `yaml:"matrix" json:"matrix"`
	// Exclude removes the cells whose axis values match every key of an
	// entry. Values compare as written ("01" is not "1").
	Exclude []map[string]string `yaml:"exclude" json:"exclude"`
	// Include adds cells (axis values) that the product does not have; its
	// values need not be among the axis's.
	Include []map[string]string `yaml:"include" json:"include"`
	// Suites to run; none means the image is only built.
	Suites []Suite `yaml:"suites" json:"suites"`
}

// Axis is one matrix dimension.
type Axis struct {
	// Name matches AxisNamePattern.
	Name string
	// Values as written in the YAML (numbers too: [1, 2] is "1", "2"),
	// non-empty and distinct.
	Values []string
}

// Matrix is the ordered list of axes (a YAML mapping keeps its order).
type Matrix []Axis

// Suite is one test command, fanned out over the axes it references.
type Suite struct {
	// Name, unique; may reference axes as ${axis}. Suite.Axes tells which.
	Name string `yaml:"name" json:"name"`
	// Run is the command: a list is exec'd as is, a string runs under "sh -c".
	// It may reference axes; $${x} is the shell's own ${x}.
	Run Command `yaml:"run" json:"run"`
	// Env adds environment variables; values may reference axes.
	Env map[string]string `yaml:"env" json:"env"`
	// Secrets give the command secrets of the call, by name: the key is an
	// environment variable (API_TOKEN), or an absolute path where the
	// secret is mounted as a file; the value is the secret's name (see
	// Secrets). Identical in candidate and baseline cells.
	Secrets Secrets `yaml:"secrets" json:"secrets"`
	// Workdir of the command. Default: the image's own.
	Workdir string `yaml:"workdir" json:"workdir"`
	// MountSource, when set, mounts the repository's sources at this
	// absolute path in the container under test.
	MountSource string `yaml:"mountSource" json:"mountSource"`
	// Reports are absolute paths of JUnit XML files read back after the run.
	Reports []string `yaml:"reports" json:"reports"`
	// Image names the image of this run the command runs in when the
	// suite has no runner: the candidate in candidate cells, the baseline
	// in baseline cells. Default: the run's first image.
	Image string `yaml:"image" json:"image"`
	// Runner is the container the command runs in. Default (zero): the
	// image under test itself.
	Runner Runner `yaml:"runner" json:"runner"`
	// Services run beside the command, each reached by its name as a host
	// name: the image under test as a running app, or sidecars (a database,
	// a cache). They start in order, and each reaches the ones before it
	// (list the database before the app). Default none.
	Services []Service `yaml:"services" json:"services"`
	// Platforms is where the suite runs: "first" (default) on the first of
	// build.platforms; "all" on every platform built too, where the engine
	// can run it (emulation), as the smoke subset of the other platforms.
	Platforms string `yaml:"platforms" json:"platforms"`
}

// Suite platforms.
const (
	// PlatformsFirst runs a suite on the first of build.platforms.
	PlatformsFirst = "first"
	// PlatformsAll runs a suite on every platform built.
	PlatformsAll = "all"
)

// OnAllPlatforms reports whether a suite's (or the smoke check's)
// platforms value asks for every platform built.
func OnAllPlatforms(platforms string) bool { return platforms == PlatformsAll }

// Runner is the container a suite's command runs in, when it is not the
// image under test: a pinned image, or a stage of this repository's
// Dockerfile built once per run. Candidate and baseline cells run in the
// same runner.
type Runner struct {
	// Ref is an image pinned by digest (repo@sha256:…).
	Ref string `yaml:"ref" json:"ref"`
	// Build builds the runner from this repository's Dockerfile.
	Build RunnerBuild `yaml:"build" json:"build"`
	// Secrets give the runner secrets of the call, as a suite's do.
	Secrets Secrets `yaml:"secrets" json:"secrets"`
}

// Secrets maps where a container gets a secret (an environment variable,
// or an absolute path for a file) to the secret's name. A name is one the
// call provides (the module's --secret, named by --secret-name or by its
// source: env:API_TOKEN is API_TOKEN, file:./db-password is db-password).
type Secrets map[string]string

// IsFile reports whether key (a Secrets key) is a file path, not an
// environment variable.
func IsFile(key string) bool { return strings.HasPrefix(key, "/") }

// IsZero reports whether r names no runner: the command runs in the image
// under test.
func (r Runner) IsZero() bool { return r.Ref == "" && r.Build.Target == "" }

// RunnerBuild is a runner built from the build section's Dockerfile.
type RunnerBuild struct {
	// Target is the Dockerfile stage to build (required).
	Target string `yaml:"target" json:"target"`
	// Image is the image of the run whose build section (Dockerfile,
	// context, args) builds the stage. Default "": the first image's.
	Image string `yaml:"image" json:"image"`
}

// AppImage is the name of the image of a run that builds one (image and
// build, no images section): a service runs it with `image: app`.
const AppImage = "app"

// Service is a container a suite's cells start before the command and
// reach by Name. Exactly one of Image and Ref is set.
type Service struct {
	// Name is the host name the command reaches the service by (a DNS label).
	Name string `yaml:"name" json:"name"`
	// Image names an image of this run (app for the one image of a run
	// without an images section): the candidate in candidate cells, the
	// baseline in baseline cells.
	Image string `yaml:"image" json:"image"`
	// Ref is an image pinned by digest (repo@sha256:…), the same for the
	// candidate and the baseline: a sidecar.
	Ref string `yaml:"ref" json:"ref"`
	// Ports the service listens on (TCP); the engine waits until each
	// accepts connections. Default none.
	Ports []int `yaml:"ports" json:"ports"`
	// Env adds environment variables; values may reference axes.
	Env map[string]string `yaml:"env" json:"env"`
	// Secrets give the service secrets of the call, as a suite's do.
	Secrets Secrets `yaml:"secrets" json:"secrets"`
	// Args replace the image's command (CMD); its entrypoint stays.
	// Default: the image's own. They may reference axes.
	Args []string `yaml:"args" json:"args"`
	// Health is how the service says it is ready, beyond its ports.
	Health Health `yaml:"health" json:"health"`
	// Timeout bounds the wait until it is healthy. Default 60s.
	Timeout Duration `yaml:"timeout" json:"timeout"`
}

// Health is a service's readiness check: at most one of HTTP and Exec.
// Zero: the service is ready when its ports accept connections.
type Health struct {
	// HTTP is a path that must answer 2xx to GET, e.g. /health.
	HTTP string `yaml:"http" json:"http"`
	// Port of the HTTP check. Default: the service's first port.
	Port int `yaml:"port" json:"port"`
	// Exec is a command run in a container of the service's own image,
	// with the service bound under its name, until it exits 0, e.g.
	// [pg_isready, -h, db].
	Exec []string `yaml:"exec" json:"exec"`
}

// DefaultServiceTimeout is a service's timeout when the config gives none.
const DefaultServiceTimeout = 60 * time.Second

// Command is a suite's command line. Exactly one of Args and Shell is set.
type Command struct {
	// Args is the exec form (a YAML list).
	Args []string
	// Shell is the shell form (a YAML string), run as sh -c Shell.
	Shell string
}

// Gate decides whether the candidate may be promoted.
type Gate struct {
	// Mode: "no-regression" (default) or "strict".
	Mode string `yaml:"mode" json:"mode"`
	// Baseline is the tag in Image whose digest is the previous good image.
	// Default "stable".
	Baseline string `yaml:"baseline" json:"baseline"`
	// Flaky: "warn" (default) reports flaky cells, "fail" blocks on them.
	Flaky string `yaml:"flaky" json:"flaky"`
	// AllowDropped lets the candidate stop running a case the baseline ran.
	// Default false.
	AllowDropped bool `yaml:"allowDropped" json:"allowDropped"`
}

// Gate modes.
const (
	ModeNoRegression = "no-regression"
	ModeStrict       = "strict"
)

// Flaky policies.
const (
	FlakyWarn = "warn"
	FlakyFail = "fail"
)

// Scan is the vulnerability gate: Trivy scans the candidate and the
// baseline image, and the candidate may not bring findings the baseline did
// not have.
//
// The default mode is no-new, because it needs no setup: Trivy runs inside
// the engine from an image pinned by digest, its database comes anonymously
// from public registries (with fallbacks), the candidate is scanned from a
// tarball (no registry) and the baseline is pulled the way its tests already
// pull it. And it blocks only what a change brings, not the CVEs published
// yesterday against an unchanged base image. Where there is no baseline
// image yet (a first promotion, or the ephemeral registry of a fresh engine)
// there is nothing to compare with: no-new then reports the candidate's
// findings without blocking on them, and the image promoted becomes the
// baseline. A scan that fails blocks (fail closed): set mode off where
// Trivy cannot reach a database, or give it one (offline).
type Scan struct {
	// Mode: "no-new" (default) blocks on findings the baseline does not
	// have; "strict" blocks on every finding; "off" scans nothing.
	Mode string `yaml:"mode" json:"mode"`
	// Severity lists the severities that count, from CRITICAL down to the
	// threshold, in Trivy's names (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN).
	// Default [CRITICAL, HIGH].
	Severity []string `yaml:"severity" json:"severity"`
	// IgnoreUnfixed: a finding with no fixed version does not count.
	// Default false.
	IgnoreUnfixed bool `yaml:"ignoreUnfixed" json:"ignoreUnfixed"`
	// IgnoreFile is a Trivy ignore file in the repository: .trivyignore
	// lines ("CVE-2024-1234 exp:2026-06-30") or the YAML form
	// (.trivyignore.yaml, with paths, purls, statement and expired_at). An
	// expired entry no longer ignores, and is reported. Default "": the
	// first of .trivyignore.yaml, .trivyignore.yml and .trivyignore at the
	// repository root that exists, else none.
	IgnoreFile string `yaml:"ignoreFile" json:"ignoreFile"`
	// DBRepositories are the OCI repositories of Trivy's vulnerability
	// database, tried in order. Default [ghcr.io/aquasecurity/trivy-db:2,
	// public.ecr.aws/aquasecurity/trivy-db:2, mirror.gcr.io/aquasec/trivy-db:2].
	DBRepositories []string `yaml:"dbRepositories" json:"dbRepositories"`
	// JavaDBRepositories are the same for Trivy's Java index database
	// (used only to identify JAR files). Default
	// [ghcr.io/aquasecurity/trivy-java-db:1,
	// public.ecr.aws/aquasecurity/trivy-java-db:1,
	// mirror.gcr.io/aquasec/trivy-java-db:1].
	JavaDBRepositories []string `yaml:"javaDbRepositories" json:"javaDbRepositories"`
	// Image is the Trivy image, pinned by digest (repo@sha256:…).
	// Default "": the Trivy release this Slipway version pins.
	Image string `yaml:"image" json:"image"`
	// Offline: never download a database; scan with the one given to the
	// module (its trivy-db argument: a Trivy cache directory holding
	// db/trivy.db and db/metadata.json, and java-db/ for JAR files).
	// Default false.
	Offline bool `yaml:"offline" json:"offline"`
}

// Scan modes.
const (
	ScanNoNew  = "no-new"
	ScanStrict = "strict"
	ScanOff    = "off"
)

// Severities are Trivy's severity names, highest first.
func Severities() []string {
	return []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
}

// Smoke is the check every image can have without a suite: start the
// image with its own entrypoint and command and see that it runs. It passes
// when the command exits 0, when the image's HEALTHCHECK reports healthy
// (an image with a HEALTHCHECK must become healthy within Duration), or
// when the command (a server) is still running after Duration. It fails on
// a non-zero exit. It is all that is tested when no suite is configured.
type Smoke struct {
	// Mode: "auto" (default) runs the smoke check when test.suites is
	// empty; "always" runs it beside the suites; "off" never runs it.
	Mode string `yaml:"mode" json:"mode"`
	// Duration the image must keep running (or become healthy within).
	// Default 10s.
	Duration Duration `yaml:"duration" json:"duration"`
	// Platforms: "first" (default) smoke-checks the first of
	// build.platforms; "all" every platform built, where the engine can
	// run it (emulation).
	Platforms string `yaml:"platforms" json:"platforms"`
}

// Smoke modes.
const (
	SmokeAuto   = "auto"
	SmokeAlways = "always"
	SmokeOff    = "off"
)

// SmokeCell is the id of the smoke check's cell; no suite may take it
// while the smoke check runs.
const SmokeCell = "smoke"

// Runs reports whether the smoke check runs for a test section with suites
// (the number of suites configured).
func (s Smoke) Runs(suites int) bool {
	return s.Mode == SmokeAlways || (s.Mode == SmokeAuto && suites == 0)
}

// Tags are the templates of the tags a promotion writes.
type Tags struct {
	// Immutable tag templates; a template whose placeholders this run
	// cannot fill (e.g. {pr} outside a pull request) is skipped.
	// Default ["sha-{sha7}", "pr-{pr}-{sha7}", "{branch}-{sha7}"].
	Immutable []string `yaml:"immutable" json:"immutable"`
	// Floating tags, moved by digest only after the gate passes.
	// Default ["stable"].
	Floating []string `yaml:"floating" json:"floating"`
}

// Retention is the registry clean-up policy.
type Retention struct {
	// MinAge: nothing younger is ever deleted. Default 48h.
	MinAge Duration `yaml:"minAge" json:"minAge"`
	// Protect: tags matching any of these regexes are never deleted.
	Protect []string `yaml:"protect" json:"protect"`
	// Rules in order; the first that matches a tag decides it. Default none:
	// only untagged manifests are ever deleted.
	Rules []Rule `yaml:"rules" json:"rules"`
	// Untagged manifests older than this go, unless a kept index needs them.
	Untagged Untagged `yaml:"untagged" json:"untagged"`
	// RollbackTargets: the images each floating tag pointed at over its
	// last N promotions (read from the promotion records, rollbacks not
	// counted) are kept, so that `slipway rollback --steps N` always has
	// somewhere to go. Default 3; 0 keeps none for this reason.
	RollbackTargets int `yaml:"rollbackTargets" json:"rollbackTargets"`
}

// Rule is one retention rule; it matches by Class, Match, or both.
type Rule struct {
	Name string `yaml:"name" json:"name"`
	// Class of tag (pr, branch, sha, semver, nightly, run, floating).
	Class string `yaml:"class" json:"class"`
	// Match is a regular expression over the tag.
	Match string `yaml:"match" json:"match"`
	// OlderThan: a matched tag older than this expires. Zero: any age.
	OlderThan Duration `yaml:"olderThan" json:"olderThan"`
	// Keep the newest N tags this rule matches, whatever their age.
	Keep int `yaml:"keep" json:"keep"`
	// KeepPerMinor keeps the newest N patches of each minor (semver tags).
	KeepPerMinor int `yaml:"keepPerMinor" json:"keepPerMinor"`
}

// Untagged is the rule for manifests no tag points at.
type Untagged struct {
	// OlderThan: untagged manifests older than this go. Default 24h.
	OlderThan Duration `yaml:"olderThan" json:"olderThan"`
}
