package gitctx_test

import (
	"fmt"
	"time"

	"github.com/slipway-ci/slipway/pipeline/gitctx"
)

func ExampleTags() {
	now := time.Date(2026, 2, 4, 12, 0, 0, 0, time.UTC)
	immutable := []string{"sha-{sha7}", "pr-{pr}-{sha7}", "{branch}-{sha7}", "nightly-{date}"}
	floating := []string{"stable"}

	pr := gitctx.Context{
		Revision: "abc12345def67890abcdef0123456789abcdef01",
		Branch:   "feature/Add_New-Feature#12",
		PR:       123,
	}
	tags, err := gitctx.Tags(pr, immutable, floating, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range tags {
		fmt.Println(t.Name, t.Class, t.Immutable)
	}

	release := gitctx.Context{Revision: "0123456789abcdef0123456789abcdef01234567", GitTag: "v1.2.3"}
	tags, _ = gitctx.Tags(release, []string{"sha-{sha7}"}, nil, now)
	if gitctx.LatestFor(release.GitTag, []string{"1.2.2", "1.1.9"}) {
		tags = append(tags, gitctx.Tag{Name: gitctx.LatestTag, Class: gitctx.ClassFloating})
	}
	for _, t := range tags {
		fmt.Println(t.Name, t.Class, t.Immutable)
	}
	// Output:
	// sha-abc1234 sha true
	// pr-123-abc1234 pr true
	// feature-add-new-feature-12-abc1234 branch true
	// nightly-2026-02-04 nightly true
	// stable floating false
	// sha-0123456 sha true
	// 1.2.3 semver true
	// 1.2 semver false
	// 1 semver false
	// latest floating false
}

func ExampleClassify() {
	for _, tag := range []string{"pr-123-abc1234", "main-abc1234", "1.2", "nightly-2026-02-04", "stable", "sha256-" + fmt.Sprintf("%064x", 1)} {
		class, ok := gitctx.Classify(tag, []string{"stable"})
		fmt.Println(tag, class, ok)
	}
	// Output:
	// pr-123-abc1234 pr true
	// main-abc1234 branch true
	// 1.2 semver true
	// nightly-2026-02-04 nightly true
	// stable floating true
	// sha256-0000000000000000000000000000000000000000000000000000000000000001  false
}
