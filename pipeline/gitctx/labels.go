package gitctx

import (
	"slices"
	"strings"
	"time"
)

// Label keys Labels sets.
const (
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
	LabelVersion  = "org.opencontainers.image.version"
	LabelRunID    = "dev.slipway.run-id"
)

// Labels returns the OCI labels of a run; a label whose value is unknown is
// omitted:
//
//	org.opencontainers.image.revision  the full revision (lowercase)
//	org.opencontainers.image.source    the repository URL, through SourceURL (no credentials)
//	org.opencontainers.image.created   now, RFC 3339 UTC (omitted for a zero now)
//	org.opencontainers.image.version   the semver of the git tag without "v" (1.2.3,
//	                                   1.2.3-rc.1); omitted otherwise: the commit is
//	                                   already in .revision, and tools read .version
//	                                   as a version
//	dev.slipway.run-id                 the CI run id: a new config digest per run,
//	                                   while the layers stay cached
func Labels(c Context, now time.Time) map[string]string {
	l := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			l[k] = v
		}
	}
	set(LabelRevision, strings.ToLower(c.Revision))
	set(LabelSource, SourceURL(c.Source))
	if !now.IsZero() {
		set(LabelCreated, now.UTC().Format(time.RFC3339))
	}
	if v, ok := gitTagSemver(c.GitTag); ok {
		set(LabelVersion, v[1:])
	}
	set(LabelRunID, c.RunID)
	return l
}

// LabelList returns labels as "key=value" strings sorted by key: the form
// of repeated --label arguments (Dagger functions take no maps).
func LabelList(labels map[string]string) []string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + labels[k]
	}
	return out
}
