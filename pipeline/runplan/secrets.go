package runplan

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/matrix"
)

// SecretNames names the secrets a call provides: by names, one per secret
// in order, when given (the module's --secret-name); else each by its
// source, the address the Dagger CLI made it from (Secret.uri): env://X is
// X, file://…/NAME is NAME. A secret of another provider (cmd:, op:,
// vault:, …) needs names. Names must be secret names (config.SecretNameRE)
// and each given once. No error names a secret's source beyond its scheme:
// an address can carry more than a name (a command line).
func SecretNames(uris, names []string) ([]string, error) {
	if len(names) > 0 && len(names) != len(uris) {
		return nil, fmt.Errorf("--secret-name: %d names for %d secrets: give one name per --secret, in order, or none", len(names), len(uris))
	}
	out := make([]string, len(uris))
	for i, uri := range uris {
		if len(names) > 0 {
			out[i] = names[i]
		} else {
			n, err := secretNameOf(uri)
			if err != nil {
				return nil, fmt.Errorf("--secret %d: %w", i+1, err)
			}
			out[i] = n
		}
		if !config.SecretNameRE.MatchString(out[i]) {
			return nil, fmt.Errorf("--secret %d: %q is not a secret name (letters, digits, '.', '_' and '-', at most 128): name it with --secret-name", i+1, out[i])
		}
		if j := slices.Index(out[:i], out[i]); j >= 0 {
			return nil, fmt.Errorf("--secret %d: the name %q is the name of --secret %d too: give each secret its own name (--secret-name)", i+1, out[i], j+1)
		}
	}
	return out, nil
}

// secretNameOf is the name of a secret by its source.
func secretNameOf(uri string) (string, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	switch {
	case !ok:
		return "", fmt.Errorf("its source is unknown: name it with --secret-name")
	case scheme == "env":
		return rest, nil
	case scheme == "file":
		return path.Base(rest), nil
	}
	return "", fmt.Errorf("a %s: secret has no name of its own: name it with --secret-name (one per --secret, in order)", scheme)
}

// MissingSecrets checks, before anything runs, that the call provides
// every secret cells name (their commands' and their services'): an error
// names each missing secret and where the config uses it.
func MissingSecrets(cells []matrix.Cell, provided []string) error {
	uses := map[string][]string{}
	use := func(name, where string) {
		if !slices.Contains(provided, name) && !slices.Contains(uses[name], where) {
			uses[name] = append(uses[name], where)
		}
	}
	for _, c := range cells {
		for _, k := range slices.Sorted(maps.Keys(c.Secrets)) {
			use(c.Secrets[k], fmt.Sprintf("suite %s: %s", c.Suite, k))
		}
		for _, s := range c.Services {
			for _, k := range slices.Sorted(maps.Keys(s.Secrets)) {
				use(s.Secrets[k], fmt.Sprintf("suite %s, service %s: %s", c.Suite, s.Name, k))
			}
		}
	}
	if len(uses) == 0 {
		return nil
	}
	var lines []string
	for _, n := range slices.Sorted(maps.Keys(uses)) {
		lines = append(lines, fmt.Sprintf("secret %q (%s)", n, strings.Join(uses[n], "; ")))
	}
	have := "the call gives none"
	if len(provided) > 0 {
		have = "the call gives " + strings.Join(provided, ", ")
	}
	return fmt.Errorf("the config names secrets the call does not give (%s): %s; give each with --secret (env:NAME, file:PATH, …) and, for another name, --secret-name", have, strings.Join(lines, ", "))
}
