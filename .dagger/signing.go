package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/attest"
)

// signerOf reads --signing-key (and --signing-password) into a signer,
// nil without a key. A key that does not parse fails the call before
// anything runs; the error never shows the key or the password.
func signerOf(ctx context.Context, key, password *dagger.Secret) (*attest.Signer, error) {
	if key == nil {
		return nil, nil
	}
	pem, err := key.Plaintext(ctx)
	if err != nil {
		return nil, err
	}
	var pw []byte
	if password != nil {
		p, err := password.Plaintext(ctx)
		if err != nil {
			return nil, err
		}
		pw = []byte(p)
	}
	s, err := attest.ParsePrivateKey([]byte(pem), pw)
	if err != nil {
		return nil, fmt.Errorf("--signing-key: %w", err)
	}
	return s, nil
}

// configResource is the config file the run reads, by path and sha256
// digest, for the test-result attestation; nil for the defaults (no file).
func (m *Slipway) configResource(ctx context.Context) *attest.Resource {
	ok, err := m.Source.Exists(ctx, m.ConfigPath)
	if err != nil || !ok {
		return nil
	}
	text, err := m.Source.File(m.ConfigPath).Contents(ctx)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256([]byte(text))
	return &attest.Resource{Name: m.ConfigPath, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
}
