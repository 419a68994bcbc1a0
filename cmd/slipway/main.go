// Command slipway is the command-line face of Slipway's pipeline packages:
// the same decisions the Dagger module makes, for jobs that need no engine.
//
// Exit codes, for every verb: 0 ok, 1 gate or policy failure, 2 bad input,
// 3 infrastructure (registry, network, engine).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes CI can act on.
const (
	exitOK     = 0
	exitPolicy = 1
	exitUsage  = 2
	exitInfra  = 3
)

// exitError carries the exit code a failure maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks bad input: flags, arguments, config (exit 2).
func usageErr(err error) error { return &exitError{exitUsage, err} }

// policyErr marks a gate or policy failure (exit 1).
func policyErr(err error) error { return &exitError{exitPolicy, err} }

// infraErr marks a registry, network or engine failure (exit 3).
func infraErr(err error) error { return &exitError{exitInfra, err} }

// env is what a verb may read of the world; tests fill it in.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one verb.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is filled in init: the verbs' help reads it, so it cannot be a
// plain initialized variable (an initialization cycle).
var commands map[string]command

func init() {
	commands = map[string]command{
		"version": {"print the version of slipway", runVersion},
		"tags":    {"print the tags and labels this run would use", runTags},
		"plan":    {"print the cells, tags and baseline a run would use", runPlan},
		"verify":  {"check a ref's digests, sizes and revision label", runVerify},
		"promote": {"copy an image by digest and move its tags", runPromote},
		"gate":    {"decide candidate vs baseline from test reports", runGate},
		"report":  {"turn JUnit files from any runner into a report for gate", runReport},
		"prune":   {"plan or apply registry retention", runPrune},
	}
	commands["rollback"] = command{"move a floating tag back to the image it pointed at before", runRollback}
	commands["history"] = command{"list the promotions and rollbacks of a floating tag", runHistory}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a verb and maps its error to an exit code,
// printing one line for the user.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "slipway: unknown command %q (see slipway --help)\n", args[0])
		return exitUsage
	}
	err := cmd.run(ctx, e, args[1:])
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "slipway %s: %s\n", args[0], oneLine(err.Error()))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitInfra
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: slipway <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nexit codes: 0 ok, 1 gate or policy failure, 2 bad input, 3 infrastructure")
	fmt.Fprintln(w, "run 'slipway <command> --help' for a command's flags")
}

// newFlags returns a flag set for a verb whose errors and help go to e.stderr.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("slipway "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: slipway %s %s\n\n%s\n\nflags:\n", name, synopsis, commands[name].summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, mapping a bad flag to a usage error. Flags may
// come before or after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErr(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// oneLine folds a multi-line message onto one line for the user.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
