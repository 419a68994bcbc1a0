package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/attest"
	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/registry"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify", "REF [--revision SHA] [--full] [--require-promotion] [--key cosign.pub]")
	var o registry.VerifyOptions
	fs.StringVar(&o.Revision, "revision", "", "the "+registry.RevisionLabel+" label every image must carry")
	fs.BoolVar(&o.Full, "full", false, "stream and hash every blob (default: check presence and size)")
	fs.BoolVar(&o.RequirePromotion, "require-promotion", false, "require a Slipway promotion record for the digest")
	key := fs.String("key", "", "a public key (PEM, as cosign.pub): require the promotion's signed attestations (test result and decision pass; with --revision, that revision)")
	insecure := fs.Bool("insecure", false, "plain HTTP to any registry (localhost and private addresses always are)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr(fmt.Errorf("want one REF (a tag or a digest reference), got %d arguments", len(pos)))
	}
	if _, err := name.ParseReference(pos[0], nameOpts(*insecure)...); err != nil {
		return usageErr(fmt.Errorf("REF %q: %w", pos[0], err))
	}
	var pub []byte
	if *key != "" {
		if pub, err = os.ReadFile(*key); err != nil {
			return usageErr(fmt.Errorf("--key: %w", err))
		}
	}
	c, err := newRegistryClient(e, *insecure)
	if err != nil {
		return err
	}
	d, err := c.Verify(ctx, pos[0], o)
	if err != nil {
		return registryErr(err)
	}
	if pub != nil {
		v, err := flow.VerifySigned(ctx, c, d, pub, o.Revision)
		switch {
		case errors.Is(err, attest.ErrKey):
			return usageErr(fmt.Errorf("--key %s: %w", *key, err))
		case errors.Is(err, attest.ErrNotVerified):
			return policyErr(fmt.Errorf("%s: %w", d, err))
		case err != nil:
			return registryErr(err)
		}
		fmt.Fprintln(e.stderr, signedLine(v))
	}
	fmt.Fprintln(e.stdout, d.String())
	return nil
}

// signedLine says in one line what verify --key found.
func signedLine(v *attest.Verified) string {
	line := fmt.Sprintf("signed: tests %s (%d passed, %d warned, %d failed); promotion %s (%s", v.TestResult.Result,
		len(v.TestResult.Passed), len(v.TestResult.Warned), len(v.TestResult.Failed), v.Promotion.Decision, v.Promotion.Mode)
	if v.Promotion.Revision != "" {
		line += ", revision " + v.Promotion.Revision
	}
	if v.Promotion.RunID != "" {
		line += ", run " + v.Promotion.RunID
	}
	return line + ")"
}

// newRegistryClient is the registry client of the CLI: credentials from
// SLIPWAY_REGISTRY_USERNAME/PASSWORD (optionally for SLIPWAY_REGISTRY only),
// then the Docker config; warnings to stderr.
func newRegistryClient(e *env, insecure bool) (*registry.Client, error) {
	opts := []registry.Option{
		registry.WithEnv(e.getenv),
		registry.WithLogger(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
		registry.WithUserAgent("slipway-cli"),
	}
	if insecure {
		opts = append(opts, registry.WithInsecure())
	}
	c, err := registry.New(opts...)
	if err != nil {
		return nil, usageErr(err)
	}
	return c, nil
}

func nameOpts(insecure bool) []name.Option {
	if insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// registryErr maps the registry package's errors to exit codes: bad input
// 2; a mismatch, a refused tag, a moved baseline or a missing image 1;
// anything else (network, registry, auth) 3.
func registryErr(err error) error {
	switch {
	case errors.Is(err, registry.ErrInvalidRequest):
		return usageErr(err)
	case errors.Is(err, registry.ErrVerifyMismatch), errors.Is(err, registry.ErrTagExists),
		errors.Is(err, registry.ErrBaselineMoved), errors.Is(err, registry.ErrNotFound):
		return policyErr(err)
	}
	return infraErr(err)
}
