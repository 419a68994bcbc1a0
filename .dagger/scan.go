package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

// trivyImage is Trivy 0.69.3, pinned by its image index digest (the same
// digest on ghcr.io, Docker Hub's aquasec/trivy and ECR Public). 0.69.3
// predates the March 2026 compromise of Trivy's release pipeline, whose
// v0.69.4 to v0.69.6 images were malicious: move this pin only by digest,
// to a release checked against Aqua's signatures.
const trivyImage = "ghcr.io/aquasecurity/trivy:0.69.3@sha256:bcc376de8d77cfe086a917230e818dc9f8528e3c852f7b1aff648949b6258d1c"

// trivyCache is Trivy's cache directory in the scan container: the
// vulnerability database in db/, the Java index in java-db/.
const trivyCache = "/trivy"

// Scan runs Trivy in the engine on a target and returns its JSON report:
// every severity, nothing ignored (pipeline/scan judges). The candidate is
// scanned from its tarball, the baseline from a tarball of its digest pulled
// by the engine, so Trivy needs no registry and no credentials. Exit code 0
// whatever it finds: a finding is a result, a failing Trivy an error.
func (e *engine) Scan(ctx context.Context, t flow.Target) ([]byte, error) {
	sc := e.cfg.Scan
	supplied := e.m.TrivyDb
	image := sc.Image
	if image == "" {
		image = trivyImage
	}
	ctr := dag.Container().From(image)
	args := []string{
		"trivy", "image", "--input", "/scan/image.tar", "--cache-dir", trivyCache,
		"--scanners", "vuln", "--format", "json", "--output", "/out/report.json",
		"--exit-code", "0", "--skip-db-update", "--no-progress", "--timeout", "30m",
	}
	switch {
	case supplied != nil:
		// The user's database, as given: no download of any kind.
		ctr = ctr.WithMountedDirectory(trivyCache, supplied)
		args = append(args, "--skip-java-db-update", "--offline-scan")
	case sc.Offline:
		return nil, errors.New("scan.offline is set, but the module was given no Trivy database: pass --trivy-db DIR, a Trivy cache directory holding db/trivy.db and db/metadata.json (trivy image --download-db-only --cache-dir DIR)")
	default:
		ctr = ctr.
			WithMountedDirectory(trivyCache+"/db", e.trivyDB(image, sc.DBRepositories)).
			// The Java index only identifies JAR files; Trivy fetches it when
			// an image has some. Private: concurrent scans never share a
			// half-written one.
			WithMountedCache(trivyCache+"/java-db", dag.CacheVolume("slipway-trivy-java-db"),
				dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModePrivate})
		args = append(args, "--java-db-repository", strings.Join(sc.JavaDBRepositories, ","))
	}
	img, err := e.image(t)
	if err != nil {
		return nil, err
	}
	ran := ctr.
		WithMountedFile("/scan/image.tar", img.AsTarball()).
		WithDirectory("/out", dag.Directory()).
		WithWorkdir("/scan").
		WithExec(args)
	f := ran.File("/out/report.json")
	size, err := f.Size(ctx)
	if err != nil {
		return nil, execError(err)
	}
	if size > scan.MaxReportBytes {
		return nil, fmt.Errorf("Trivy's report is %d bytes, more than the %d a report may have", size, scan.MaxReportBytes)
	}
	out, err := f.Contents(ctx)
	if err != nil {
		return nil, execError(err)
	}
	return []byte(out), nil
}

// trivyDB returns Trivy's vulnerability database as a directory snapshot.
//
// Freshness: exec results are cached by their inputs (DESIGN §9), and a
// cache volume is not an input. So the download runs in its own exec, keyed
// by the run's date: at most once a day per engine it asks Trivy to update
// the database in a cache volume (Trivy downloads only when its copy is
// past its NextUpdate), then copies it out. The scans mount that copy: its
// contents are part of their cache key, so a new database re-runs them,
// the same database keeps them cached, and the candidate and the baseline
// of one run are always judged by the same data (a finding published
// between two scans cannot look new).
func (e *engine) trivyDB(image string, repositories []string) *dagger.Directory {
	return dag.Container().From(image).
		WithMountedCache("/cache", dag.CacheVolume("slipway-trivy-db"),
			dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
		WithEnvVariable("SLIPWAY_TRIVY_DB_DAY", e.runDay()).
		WithExec([]string{"sh", "-c",
			`trivy image --cache-dir /cache --download-db-only --no-progress --db-repository "$1" && rm -rf /out && mkdir -p /out && cp -R /cache/db /out/db`,
			"sh", strings.Join(repositories, ","),
		}).
		Directory("/out/db")
}

// runDay is the run's UTC date, from the created label stamped once per
// run, so that both scans of a run ask for the same day's database.
func (e *engine) runDay() string {
	if c := e.plan.Labels[gitctx.LabelCreated]; len(c) >= len(time.DateOnly) {
		return c[:len(time.DateOnly)]
	}
	return time.Now().UTC().Format(time.DateOnly)
}

// scanIgnore reads the ignore file of the config's scan section from the
// source: scan.ignoreFile, or the first of scan.DefaultIgnoreFiles that
// exists. Nil when scanning is off or there is none.
func (m *Slipway) scanIgnore(ctx context.Context, cfg *config.Config) (*scan.IgnoreList, error) {
	if cfg.Scan.Mode == config.ScanOff {
		return nil, nil
	}
	names := scan.DefaultIgnoreFiles()
	if cfg.Scan.IgnoreFile != "" {
		names = []string{cfg.Scan.IgnoreFile}
	}
	for _, name := range names {
		ok, err := m.Source.Exists(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if !ok {
			if cfg.Scan.IgnoreFile != "" {
				return nil, fmt.Errorf("scan.ignoreFile %s: not found in the source directory", name)
			}
			continue
		}
		f := m.Source.File(name)
		size, err := f.Size(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if size > scan.MaxIgnoreBytes {
			return nil, fmt.Errorf("%s: %d bytes, more than the %d an ignore file may have", name, size, scan.MaxIgnoreBytes)
		}
		text, err := f.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		return scan.ParseIgnore(name, strings.NewReader(text))
	}
	return nil, nil
}
