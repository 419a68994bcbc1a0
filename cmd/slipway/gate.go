package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gate"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

// runGate merges the report JSON of one or more sharded runners for the
// candidate (and the baseline), decides with gate.Decide, prints the decision
// and exits 0 when it passes, 1 when it blocks, 2 on bad input.
//
// Settings come from --config's gate section (when given), then the flags.
// Report files may follow --candidate or --baseline as plain arguments, so a
// shell glob works: --candidate shard-*.json --baseline base-*.json.
//
// --scan-candidate (and --scan-baseline) add the vulnerability gate: Trivy
// JSON reports judged with the config's scan section (default: no-new,
// CRITICAL and HIGH) and its ignore file, found next to --config (or in
// the working directory without one).
func runGate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "gate", "--candidate R.json… [--baseline R.json…] [--scan-candidate T.json [--scan-baseline T.json]] [--mode strict|no-regression] [--flaky warn|fail] [--allow-dropped] [--config slipway.yaml] [--format md|json|junit]")
	var cands, bases stringsFlag
	var cur *stringsFlag
	var scanCand, scanBase string
	fs.Var(&listFlag{dst: &cands, cur: &cur}, "candidate", "candidate report JSON; repeat it or list files after it (the shards of one run are merged)")
	fs.Var(&listFlag{dst: &bases, cur: &cur}, "baseline", "baseline report JSON, same form; none: judged strict")
	fs.Var(&fileFlag{dst: &scanCand, cur: &cur}, "scan-candidate", "the candidate's Trivy report (trivy image --format json): judge its vulnerabilities with the config's scan section")
	fs.Var(&fileFlag{dst: &scanBase, cur: &cur}, "scan-baseline", "the baseline's Trivy report; none: there is no baseline image")
	mode := fs.String("mode", "", "gate mode: no-regression or strict (default: the config's, else no-regression)")
	flaky := fs.String("flaky", "", "flaky policy: warn or fail (default: the config's, else warn)")
	allowDropped := fs.Bool("allow-dropped", false, "allow the candidate to stop running cases the baseline ran (default: the config's)")
	configPath := fs.String("config", "", "slipway.yaml to take the gate settings from (default: none, flags and defaults only)")
	format := fs.String("format", "md", "output: md (for $GITHUB_STEP_SUMMARY), json or junit")

	if err := parseWithFiles(fs, args, &cur, "%q: report files go after --candidate or --baseline"); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	full := config.Default()
	if *configPath != "" {
		c, err := config.LoadFile(*configPath)
		if err != nil {
			return usageErr(err)
		}
		full = *c
	}
	cfg := full.Gate
	switch *mode {
	case "", config.ModeNoRegression, config.ModeStrict:
	default:
		return usageErr(fmt.Errorf("--mode %q: want %s or %s", *mode, config.ModeNoRegression, config.ModeStrict))
	}
	switch *flaky {
	case "", config.FlakyWarn, config.FlakyFail:
	default:
		return usageErr(fmt.Errorf("--flaky %q: want %s or %s", *flaky, config.FlakyWarn, config.FlakyFail))
	}
	switch *format {
	case "md", "json", "junit":
	default:
		return usageErr(fmt.Errorf("--format %q: want md, json or junit", *format))
	}
	if *mode == config.ModeStrict && set["allow-dropped"] {
		return usageErr(errors.New("--allow-dropped has no meaning with --mode strict (strict compares with no baseline)"))
	}
	if len(cands) == 0 {
		return usageErr(errors.New("no --candidate report"))
	}
	if scanBase != "" && scanCand == "" {
		return usageErr(errors.New("--scan-baseline needs --scan-candidate"))
	}
	if scanCand != "" && full.Scan.Mode == config.ScanOff {
		return usageErr(fmt.Errorf("--scan-candidate: scan.mode is %s in %s", config.ScanOff, *configPath))
	}
	if *mode != "" {
		cfg.Mode = *mode
	}
	if *flaky != "" {
		cfg.Flaky = *flaky
	}
	if set["allow-dropped"] {
		cfg.AllowDropped = *allowDropped
	}

	cand, err := readReports("candidate", cands)
	if err != nil {
		return err
	}
	var base *report.Report
	if len(bases) > 0 {
		if base, err = readReports("baseline", bases); err != nil {
			return err
		}
	}

	var scans *gate.Scans
	if scanCand != "" {
		if scans, err = readScans(full.Scan, *configPath, scanCand, scanBase); err != nil {
			return err
		}
	}

	report.AlignNotRun(cand, base)
	d := gate.Decide(cfg, cand, base)
	if scans != nil {
		d = gate.MergeScans(d, *scans)
	}
	switch *format {
	case "json":
		err = d.WriteJSON(e.stdout)
	case "junit":
		err = d.WriteJUnit(e.stdout, cand)
	default:
		err = d.WriteMarkdown(e.stdout, cand)
	}
	if err != nil {
		return infraErr(err)
	}
	if !d.Pass {
		b := d.Blocking()
		return policyErr(fmt.Errorf("blocked: %d blocking reasons, first: %s", len(b), b[0]))
	}
	return nil
}

// readReports reads and merges the report files of one side.
func readReports(side string, paths []string) (*report.Report, error) {
	reps := make([]*report.Report, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, usageErr(fmt.Errorf("reading %s report: %w", side, err))
		}
		r, err := report.ReadJSON(f)
		f.Close()
		if err != nil {
			return nil, usageErr(fmt.Errorf("%s report %s: %w", side, p, err))
		}
		reps = append(reps, r)
	}
	merged, err := report.Merge(reps...)
	if err != nil {
		return nil, usageErr(fmt.Errorf("merging %s reports: %w", side, err))
	}
	return merged, nil
}

// readScans reads the Trivy reports and the ignore file of `gate`'s scan
// flags. The ignore file is scan.ignoreFile, or the first default name
// that exists, relative to the config's directory.
func readScans(c config.Scan, configPath, candPath, basePath string) (*gate.Scans, error) {
	dir := "."
	if configPath != "" {
		dir = filepath.Dir(configPath)
	}
	var ignore *scan.IgnoreList
	names := scan.DefaultIgnoreFiles()
	if c.IgnoreFile != "" {
		names = []string{c.IgnoreFile}
	}
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
		if errors.Is(err, fs.ErrNotExist) && c.IgnoreFile == "" {
			continue
		}
		if err != nil {
			return nil, usageErr(fmt.Errorf("reading scan.ignoreFile: %w", err))
		}
		ignore, err = scan.ParseIgnore(name, f)
		f.Close()
		if err != nil {
			return nil, usageErr(err)
		}
		break
	}
	policy, err := scan.PolicyFrom(c, ignore, now().UTC())
	if err != nil {
		return nil, usageErr(err)
	}
	s := &gate.Scans{Policy: policy}
	if s.Candidate, err = readTrivy("candidate", candPath); err != nil {
		return nil, err
	}
	if basePath != "" {
		if s.Baseline, err = readTrivy("baseline", basePath); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func readTrivy(side, path string) (*scan.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr(fmt.Errorf("reading the %s scan: %w", side, err))
	}
	defer f.Close()
	r, err := scan.Parse(f)
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s scan %s: %w", side, path, err))
	}
	return r, nil
}

// fileFlag is a single file flag; after it, plain arguments belong to no
// list (a stray file is an error, not a report of the flag before).
type fileFlag struct {
	dst *string
	cur **stringsFlag
}

func (f *fileFlag) String() string {
	if f == nil || f.dst == nil {
		return ""
	}
	return *f.dst
}

func (f *fileFlag) Set(v string) error {
	*f.cur = nil
	*f.dst = v
	return nil
}

// listFlag is a repeatable file flag that also marks itself as the list
// plain arguments after it go to.
type listFlag struct {
	dst *stringsFlag
	cur **stringsFlag
}

func (l *listFlag) String() string {
	if l == nil || l.dst == nil {
		return ""
	}
	return l.dst.String()
}

func (l *listFlag) Set(v string) error {
	*l.cur = l.dst
	return l.dst.Set(v)
}

// parseWithFiles parses args with fs, where plain arguments (files) may
// follow a flag that takes a list: each goes to the list *cur the last such
// flag set. A file before any such flag is a usage error, misplaced (a
// format with one %q for the file) saying where files go.
func parseWithFiles(fs *flag.FlagSet, args []string, cur **stringsFlag, misplaced string) error {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageErr(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return nil
		}
		if *cur == nil {
			return usageErr(fmt.Errorf(misplaced, args[0]))
		}
		**cur = append(**cur, args[0])
		args = args[1:]
	}
}
