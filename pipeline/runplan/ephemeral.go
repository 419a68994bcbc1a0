package runplan

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
)

// DefaultEphemeralImage is the registry image of the zero-setup ephemeral
// registry when the config's ephemeral.image is empty: CNCF distribution
// 2.8.3, pinned by digest.
const DefaultEphemeralImage = "docker.io/library/registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373"

// ForUser rewrites the ephemeral registry's service endpoint in text (a
// report, an action line) to localhost:5000, the address users, verify and
// prune know it by. With no endpoint, text is returned as it is.
func ForUser(text, endpoint string) string {
	if endpoint == "" {
		return text
	}
	host, _, _ := strings.Cut(EphemeralRepository, "/")
	return strings.ReplaceAll(text, endpoint+"/", host+"/")
}

// ExplainUnreachable adds what to do to err when ref's registry is on a
// loopback address that refused the connection: the module's registry
// client runs in a container on the Dagger engine, where 127.0.0.1 is that
// container, while the engine's own pulls and pushes reach the host's. The
// ephemeral registry (localhost:5000/slipway) is reached another way and
// is left alone. Other errors are returned as they are.
func ExplainUnreachable(ref string, err error) error {
	if err == nil || IsEphemeral(ref) || !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	r, perr := name.ParseReference(ref)
	if perr != nil {
		return err
	}
	host := r.Context().RegistryStr()
	if h, _, serr := net.SplitHostPort(host); serr == nil {
		host = h
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return err
	}
	return fmt.Errorf("%w (Slipway's registry client runs in a container on the Dagger engine, where %s is that container, not your machine: "+
		"use a registry address the engine's containers reach, such as a host name or a non-loopback IP, or leave image unset for the ephemeral registry)", err, host)
}

// ForUserErr is ForUser for an error's message, keeping the error chain.
func ForUserErr(err error, endpoint string) error {
	if err == nil || endpoint == "" {
		return err
	}
	msg := err.Error()
	if user := ForUser(msg, endpoint); user != msg {
		return &userError{msg: user, err: err}
	}
	return err
}

type userError struct {
	msg string
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }
