package config_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slipway-ci/slipway/pipeline/config"
)

func ExampleLoad() {
	cfg, err := config.Load(strings.NewReader(`
image: ghcr.io/acme/app
test:
  retries: 0
  matrix: {shard: [1, 2], browser: [chromium, firefox]}
  suites:
    - name: e2e-${shard}-${browser}
      run: npx playwright test --project=${browser} --shard=${shard}/2
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	e2e := cfg.Test.Suites[0]
	fmt.Println(cfg.Image, cfg.Test.Parallelism, cfg.Test.Retries, cfg.Test.Timeout)
	fmt.Println(e2e.Axes(cfg.Test.Matrix).Names())
	fmt.Println(config.Expand(e2e.Name, map[string]string{"shard": "2", "browser": "firefox"}))
	// Output:
	// ghcr.io/acme/app 8 0 20m
	// [shard browser]
	// e2e-2-firefox
}

func ExampleLoad_errors() {
	_, err := config.Load(strings.NewReader(`
test:
  paralelism: 4
retention:
  rules:
    - {name: branches, match: "-[0-9a-f]{7}$", olderThan: 3x}
`))
	fmt.Println(err)
	var fe *config.FieldError
	if errors.As(err, &fe) {
		fmt.Printf("first: line %d, %s\n", fe.Line, fe.Path)
	}
	// Output:
	// line 3: test.paralelism: unknown field (did you mean "parallelism"?)
	// line 6: retention.rules[0].olderThan: "3x" is not a duration
	// first: line 3, test.paralelism
}
