// Package doccheck keeps Slipway's documentation and CI wrappers honest.
//
// Its tests (run by `go test ./...`) find every `dagger call …` and
// `slipway …` command line in README.md, docs/*.md and under ci/, and check each flag
// and function against the code: Dagger arguments against the module's Go
// signatures in .dagger/ (and the core API of dagger.io/dagger for chained
// calls such as `build terminal`), slipway flags against the real CLI's
// `VERB --help`. Other tests check the structure of the GitHub Actions
// workflows and the CircleCI config, that the examples of README and docs/
// load, and that every relative link of those pages resolves.
//
// The package holds the machinery (shell splitting, the Dagger schema read
// with go/parser, the CLI's flag sets); the checks themselves are tests.
package doccheck
