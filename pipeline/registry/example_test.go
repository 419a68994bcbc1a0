package registry_test

import (
	"fmt"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

func ExampleParseExpect() {
	for _, s := range []string{"none", "ghcr.io/acme/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", "latest"} {
		e, err := registry.ParseExpect(s)
		fmt.Printf("%q -> %q, error: %v\n", s, e, err != nil)
	}
	// Output:
	// "none" -> "none", error: false
	// "ghcr.io/acme/app@sha256:0000000000000000000000000000000000000000000000000000000000000000" -> "sha256:0000000000000000000000000000000000000000000000000000000000000000", error: false
	// "latest" -> "", error: true
}

func ExampleIsInternalTag() {
	for _, tag := range []string{"stable", registry.LeaseTag, registry.PublishTag, "sha256-0000000000000000000000000000000000000000000000000000000000000000", "sha256-0000000000000000000000000000000000000000000000000000000000000000.sig"} {
		fmt.Println(tag, registry.IsInternalTag(tag))
	}
	// Output:
	// stable false
	// slipway-lease true
	// slipway-publish true
	// sha256-0000000000000000000000000000000000000000000000000000000000000000 true
	// sha256-0000000000000000000000000000000000000000000000000000000000000000.sig true
}

func ExamplePromoteResult_Lines() {
	res := &registry.PromoteResult{
		Source: "reg.example/ci/app@sha256:c0ffee", Target: "reg.example/prod/app@sha256:c0ffee",
		Copy: registry.Copied, RecordAct: registry.Created, Record: "sha256:5eed",
		Tags: []registry.TagResult{
			{Tag: "sha-abc1234", Kind: registry.KindImmutable, Action: registry.Created, To: "sha256:c0ffee"},
			{Tag: "stable", Kind: registry.KindFloating, Action: registry.Moved, From: "sha256:ba5e", To: "sha256:c0ffee"},
		},
	}
	for _, l := range res.Lines() {
		fmt.Println(l)
	}
	// Output:
	// image reg.example/prod/app@sha256:c0ffee: copied from reg.example/ci/app@sha256:c0ffee
	// immutable tag sha-abc1234: created
	// promotion record sha256:5eed: created
	// floating tag stable: moved from sha256:ba5e to sha256:c0ffee
}
