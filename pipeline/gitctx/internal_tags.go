package gitctx

import "strings"

// LeaseTag is the tag of the registry lease in a repository that receives
// floating tags. It is Slipway's: never a user tag, and retention must not
// treat it as one (IsInternalTag).
const LeaseTag = "slipway-lease"

// PublishTag is where a run's engine publishes its candidate before
// Slipway writes the candidate's immutable tags by digest: a staging tag
// every run overwrites. It is Slipway's, like LeaseTag (IsInternalTag).
const PublishTag = "slipway-publish"

// IsInternalTag reports tags Slipway or OCI tooling keep for themselves:
// the lease, the publish tag, referrers tag-schema indexes (sha256-<hex>)
// and cosign's signature, attestation and SBOM tags
// (sha256-<hex>.sig|att|sbom). No config may name one, and no rule of
// retention matches one.
func IsInternalTag(tag string) bool {
	if tag == LeaseTag || tag == PublishTag {
		return true
	}
	rest, ok := strings.CutPrefix(tag, "sha256-")
	if !ok || len(rest) < 64 || strings.Trim(rest[:64], "0123456789abcdef") != "" {
		return false
	}
	return len(rest) == 64 || rest[64] == '.'
}
