package config

import "time"

// DefaultPath is where slipway.yaml is looked for, relative to the
// repository root.
const DefaultPath = "slipway.yaml"

// Default returns the config of an empty slipway.yaml: every documented
// default, in this one place. Load starts from it and overwrites only the
// fields the file sets, so an explicit zero (retries: 0, floating: [])
// stays zero. Each call returns fresh slices.
func Default() Config {
	return Config{
		Version: Version,
		Build: Build{
			Dockerfile: "Dockerfile",
			Context:    ".",
			Platforms:  []string{"linux/amd64"},
		},
		Test: Test{
			Parallelism: 8,
			Timeout:     Duration(20 * time.Minute),
			Retries:     1,
		},
		Gate: Gate{
			Mode:     ModeNoRegression,
			Baseline: "stable",
			Flaky:    FlakyWarn,
		},
		Scan: Scan{
			Mode:               ScanNoNew,
			Severity:           []string{"CRITICAL", "HIGH"},
			DBRepositories:     DefaultDBRepositories(),
			JavaDBRepositories: DefaultJavaDBRepositories(),
		},
		Smoke: Smoke{
			Mode:      SmokeAuto,
			Duration:  Duration(DefaultSmokeDuration),
			Platforms: PlatformsFirst,
		},
		Tags: Tags{
			Immutable: []string{"sha-{sha7}", "pr-{pr}-{sha7}", "{branch}-{sha7}"},
			Floating:  []string{"stable"},
		},
		Retention: Retention{
			MinAge:  Duration(48 * time.Hour),
			Protect: DefaultProtect(),
			Untagged: Untagged{
				OlderThan: Duration(24 * time.Hour),
			},
			RollbackTargets: DefaultRollbackTargets,
		},
	}
}

// DefaultSmokeDuration is smoke.duration's default: a server that still
// runs after 10 seconds has started.
const DefaultSmokeDuration = 10 * time.Second

// MaxSmokeDuration bounds smoke.duration: the check holds a cell that long.
const MaxSmokeDuration = 10 * time.Minute

// DefaultRollbackTargets is retention.rollbackTargets' default: the images
// of a floating tag's last 3 promotions stay.
const DefaultRollbackTargets = 3

// MaxRollbackTargets bounds retention.rollbackTargets: each step back is
// a few registry reads per floating tag at every prune.
const MaxRollbackTargets = 100

// DefaultProtect returns the default retention.protect: the usual floating
// and release tags are never deleted.
func DefaultProtect() []string {
	return []string{`^latest$`, `^stable$`, `^dev$`, `^cache$`, `^v?\d+\.\d+\.\d+$`}
}

// DefaultDBRepositories returns the default scan.dbRepositories: the
// publisher's own registry first, then its mirrors on ECR Public and
// Google's Docker Hub mirror, so one outage or rate limit does not fail
// the scan.
func DefaultDBRepositories() []string {
	return []string{"ghcr.io/aquasecurity/trivy-db:2", "public.ecr.aws/aquasecurity/trivy-db:2", "mirror.gcr.io/aquasec/trivy-db:2"}
}

// DefaultJavaDBRepositories returns the default scan.javaDbRepositories,
// in the same order as DefaultDBRepositories.
func DefaultJavaDBRepositories() []string {
	return []string{"ghcr.io/aquasecurity/trivy-java-db:1", "public.ecr.aws/aquasecurity/trivy-java-db:1", "mirror.gcr.io/aquasec/trivy-java-db:1"}
}
