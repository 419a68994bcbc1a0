package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"dagger/slipway/internal/dagger"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/flow"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// callSecrets are the secrets of a call, by name, and the redactor of
// every value the call knows (these and the registry password).
type callSecrets struct {
	byName map[string]*dagger.Secret
	names  []string
	redact *report.Redactor
	// dir holds the values while the call runs (see load); cleanup removes it.
	dir string
}

// secrets reads the call's --secret arguments: names them
// (runplan.SecretNames), checks that they give every secret cells name
// (runplan.MissingSecrets) before anything runs, and builds the one
// redactor of all the call's secret values.
//
// Each secret is handed to containers keyed by its value: the engine keys
// a secret made by setSecret (an SDK's or another module's) by its name,
// so an exec of a changed value would come from the cache, a stale pass.
// A secret made from a file:// address is keyed by a salted hash of its
// value, as looked up when it is made, so each value is written to a
// private file of this call's runtime container (tmpfs where there is
// one) and made again from it; the file is removed when the call ends.
func (m *Slipway) secrets(ctx context.Context, cells []matrix.Cell) (_ *callSecrets, err error) {
	cs := &callSecrets{byName: map[string]*dagger.Secret{}}
	defer func() {
		if err != nil {
			cs.cleanup()
		}
	}()
	values := []string{}
	if m.RegistryPassword != nil {
		pw, err := m.RegistryPassword.Plaintext(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the registry password: %w", err)
		}
		values = append(values, pw)
	}
	uris := make([]string, len(m.Secret))
	for i, s := range m.Secret {
		u, err := s.URI(ctx)
		if err != nil {
			return nil, fmt.Errorf("--secret %d: %w", i+1, err)
		}
		uris[i] = u
	}
	names, err := runplan.SecretNames(uris, m.SecretName)
	if err != nil {
		return nil, err
	}
	cs.names = names
	if err := runplan.MissingSecrets(cells, names); err != nil {
		return nil, err
	}
	for i, s := range m.Secret {
		v, err := s.Plaintext(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading secret %q: %w", names[i], err)
		}
		values = append(values, v)
		if cs.byName[names[i]], err = cs.load(ctx, names[i], v); err != nil {
			return nil, err
		}
	}
	cs.redact = report.NewRedactor(values...)
	return cs, nil
}

// load makes a secret of value keyed by the value (see secrets).
func (cs *callSecrets) load(ctx context.Context, name, value string) (*dagger.Secret, error) {
	if cs.dir == "" {
		base := ""
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			base = "/dev/shm"
		}
		dir, err := os.MkdirTemp(base, "slipway-secrets-")
		if err != nil {
			return nil, fmt.Errorf("secret %q: %w", name, err)
		}
		cs.dir = dir
	}
	p := filepath.Join(cs.dir, name)
	if err := os.WriteFile(p, []byte(value), 0o600); err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	s := dag.Secret("file://" + p)
	if _, err := s.ID(ctx); err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return s, nil
}

// cleanup removes the values' files.
func (cs *callSecrets) cleanup() {
	if cs != nil && cs.dir != "" {
		_ = os.RemoveAll(cs.dir)
	}
}

// with gives ctr the secrets of a flow exec or service: an environment
// variable each, or a file at an absolute path.
func (cs *callSecrets) with(ctr *dagger.Container, secrets []flow.Secret) (*dagger.Container, error) {
	for _, s := range secrets {
		sec, ok := cs.byName[s.Name]
		if !ok {
			return nil, fmt.Errorf("secret %q (%s): the call does not give it", s.Name, s.Key)
		}
		if config.IsFile(s.Key) {
			ctr = ctr.WithMountedSecret(s.Key, sec)
		} else {
			ctr = ctr.WithSecretVariable(s.Key, sec)
		}
	}
	return ctr, nil
}
