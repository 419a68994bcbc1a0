package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/report"
)

// runReport turns JUnit files written anywhere (a CI matrix of test
// shards, a runner outside the engine) into the report JSON that `slipway
// gate` reads: one cell per --cell, the files after it its JUnit files.
// Exit 0 when the report was written, 2 on bad input (a missing or
// malformed file, a bad flag); test failures are in the report, not in the
// exit code: the gate decides.
func runReport(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "--cell NAME JUNIT.xml… [--cell NAME JUNIT.xml…] [--image REF@sha256:…] [--revision SHA] [--run-id ID] [--shard i/n]")
	var cells []*reportCell
	var cur *stringsFlag
	fs.Func("cell", "a cell (a matrix entry, e.g. e2e-webkit-2); the JUnit files after it are its results (repeat for more cells)", func(v string) error {
		if v == "" || strings.HasPrefix(v, "-") {
			return fmt.Errorf("%q is not a cell name", v)
		}
		c := &reportCell{id: v}
		cells = append(cells, c)
		cur = &c.files
		return nil
	})
	image := fs.String("image", "", "the image the tests ran against, pinned by digest (REPO@sha256:…); the gate checks that the reports of one side agree")
	revision := fs.String("revision", "", "the commit the image was built from (40 or 64 hex characters)")
	runID := fs.String("run-id", "", "the CI run that tested it")
	shard := fs.String("shard", "", "i/n when this report holds shard i of n (the gate then wants every shard)")
	if err := parseWithFiles(fs, args, &cur, "%q: JUnit files go after --cell NAME"); err != nil {
		return err
	}
	if len(cells) == 0 {
		return usageErr(errors.New("no --cell: name a cell and its JUnit files"))
	}
	rep := &report.Report{Version: report.Version, RunID: *runID, Shard: *shard}
	if *image != "" {
		d, err := name.NewDigest(*image)
		if err != nil {
			return usageErr(fmt.Errorf("--image %q: want REPO@sha256:… (pin the image by digest): %w", *image, err))
		}
		rep.Image, rep.Digest = d.String(), d.DigestStr()
	}
	if *revision != "" {
		if !isFullSHA(*revision) {
			return usageErr(fmt.Errorf("--revision %q is not a full commit SHA (40 or 64 hex characters)", *revision))
		}
		rep.Revision = strings.ToLower(*revision)
	}
	for _, c := range cells {
		if len(c.files) == 0 {
			return usageErr(fmt.Errorf("--cell %s: no JUnit files after it", c.id))
		}
		res, err := c.read()
		if err != nil {
			return usageErr(err)
		}
		rep.Cells = append(rep.Cells, res)
	}
	if err := rep.Validate(); err != nil {
		return usageErr(err)
	}
	if err := rep.WriteJSON(e.stdout); err != nil {
		return infraErr(err)
	}
	return nil
}

type reportCell struct {
	id    string
	files stringsFlag
}

// read parses the cell's files.
func (c *reportCell) read() (report.CellResult, error) {
	files := make([]report.JUnitFile, 0, len(c.files))
	for _, p := range c.files {
		f, err := os.Open(p)
		if err != nil {
			return report.CellResult{}, fmt.Errorf("--cell %s: %w", c.id, err)
		}
		defer f.Close()
		files = append(files, report.JUnitFile{Name: p, R: f})
	}
	return report.CellFromJUnit(c.id, files)
}

func isFullSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
