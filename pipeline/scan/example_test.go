package scan_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

func read(name string) *scan.Report {
	f, err := os.Open("testdata/" + name)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	r, err := scan.Parse(f)
	if err != nil {
		panic(err)
	}
	return r
}

// An image that went back from alpine 3.10 to 3.9 brings back musl's
// CRITICAL finding; the openssl ones are below the threshold.
func ExampleCompare() {
	ignore, _ := scan.ParseIgnore(".trivyignore", strings.NewReader("CVE-2019-1551 exp:2026-01-31\n"))
	p, _ := scan.PolicyFrom(config.Default().Scan, ignore, time.Date(2026, 2, 4, 0, 0, 0, 0, time.UTC))
	c := scan.Compare(p, read("alpine-39.json"), read("alpine-310.json"))
	fmt.Println("pass:", c.Pass())
	for _, f := range c.Blocking() {
		fmt.Println("new:", f)
	}
	for _, r := range c.Expired {
		fmt.Printf("expired: %s (%s) %v\n", r.Subject(), r.Where(), r.Findings)
	}
	// Output:
	// pass: false
	// new: CVE-2019-14697 in musl 1.1.20-r4 (CRITICAL, fixed in 1.1.20-r5)
	// new: CVE-2019-14697 in musl-utils 1.1.20-r4 (CRITICAL, fixed in 1.1.20-r5)
	// expired: CVE-2019-1551 (.trivyignore:1) [CVE-2019-1551 libcrypto1.1 CVE-2019-1551 libssl1.1]
}
