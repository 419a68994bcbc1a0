// Slipway: build a container image once, fan it out to a parallel test
// matrix, promote it only when it does at least as well as the previous good
// image, and prune the registry without deleting what is still needed.
//
// Every decision lives in the pipeline packages of this repository; this
// module is the wiring between them and the Dagger engine.
package main

import (
	"context"
	"errors"

	"dagger/slipway/internal/dagger"
)

// Slipway is the module's main object: the sources, the config and the git
// context every function shares.
type Slipway struct {
	// Source is the repository to build and test.
	Source *dagger.Directory
	// ConfigPath is the path of slipway.yaml inside Source.
	ConfigPath string
	// Git context of this run (empty fields are unknown).
	Revision string
	Branch   string
	Pr       int
	GitTag   string
	RunID    string
}

// New creates the Slipway object for a repository.
func New(
	// The repository: Dockerfile, sources and slipway.yaml.
	// +defaultPath="/"
	source *dagger.Directory,
	// Path of the config file inside source.
	// +default="slipway.yaml"
	config string,
	// Git commit the image is built from (full SHA). On a pull request, the PR head commit.
	// +optional
	revision string,
	// Branch the run is for, e.g. "feature/login".
	// +optional
	branch string,
	// Pull request number, 0 when the run is not for a pull request.
	// +optional
	pr int,
	// Git tag the run is for, e.g. "v1.2.3".
	// +optional
	gitTag string,
	// CI run id, stamped in the dev.slipway.run-id label.
	// +optional
	runID string,
) *Slipway {
	return &Slipway{
		Source:     source,
		ConfigPath: config,
		Revision:   revision,
		Branch:     branch,
		Pr:         pr,
		GitTag:     gitTag,
		RunID:      runID,
	}
}

// errNotImplemented is returned by functions whose capability has not landed yet.
func errNotImplemented(what string) error {
	return errors.New("not implemented yet: " + what)
}

// Build the image once from the Dockerfile, stamped with OCI labels.
//
// Returns the Container: chain terminal, publish or with-exec on it.
func (m *Slipway) Build(ctx context.Context) (*dagger.Container, error) {
	return nil, errNotImplemented("build")
}

// TestReport is the result of a test matrix run.
type TestReport struct {
	// JSON is the whole report as JSON.
	JSON string
}

// Test runs the config's test matrix on the built image, or on a
// digest-pinned ref. Test failures are reported, never an error.
func (m *Slipway) Test(
	ctx context.Context,
	// Image to test, pinned by digest (repo@sha256:...). Default: build from source.
	// +optional
	ref string,
	// Run only shard i of n, e.g. "2/4".
	// +optional
	shard string,
) (*TestReport, error) {
	return nil, errNotImplemented("test")
}

// Promotion is the outcome of a promotion: the gate decision and what moved.
type Promotion struct {
	// Decision is "pass" or "fail".
	Decision string
}

// Promote builds, tests the candidate and the baseline, gates, then publishes
// and moves tags by digest. Fails when the gate blocks.
func (m *Slipway) Promote(
	ctx context.Context,
	// Plan and test, but publish nothing.
	// +optional
	dryRun bool,
) (*Promotion, error) {
	return nil, errNotImplemented("promote")
}

// PruneReport is the retention plan for a repository, and what was applied.
type PruneReport struct {
	// JSON is the whole plan as JSON.
	JSON string
}

// Prune plans retention for a repository; deletes only with --confirm.
func (m *Slipway) Prune(
	ctx context.Context,
	// Repository to prune, e.g. ghcr.io/acme/app. Default: the config's image.
	// +optional
	repository string,
	// Apply the plan. Without it, prune only reports.
	// +optional
	confirm bool,
) (*PruneReport, error) {
	return nil, errNotImplemented("prune")
}

// Verify checks a ref's digests and sizes and its revision label; returns the digest.
func (m *Slipway) Verify(
	ctx context.Context,
	// Image reference to verify.
	ref string,
) (string, error) {
	return "", errNotImplemented("verify")
}

// Tags lists the tags and labels this run would use, one per line.
func (m *Slipway) Tags(ctx context.Context) ([]string, error) {
	return nil, errNotImplemented("tags")
}

// Ci runs the whole flow with the config's defaults: build, test, gate, promote.
func (m *Slipway) Ci(ctx context.Context) (*Promotion, error) {
	return nil, errNotImplemented("ci")
}
