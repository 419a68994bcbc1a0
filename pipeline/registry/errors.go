package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Sentinels for the decisions callers branch on. The errors returned wrap
// one of them (errors.Is) and carry the details in their message; anything
// that wraps none of them is an infrastructure failure (network, registry,
// auth).
var (
	// ErrVerifyMismatch: something differs from what it should be (a
	// digest, a size, the revision label, a missing promotion record).
	ErrVerifyMismatch = errors.New("verification failed")
	// ErrTagExists: an immutable tag already points at another digest.
	ErrTagExists = errors.New("immutable tag exists")
	// ErrBaselineMoved: a floating tag no longer points at the baseline
	// the promotion was tested against.
	ErrBaselineMoved = errors.New("baseline moved")
	// ErrNotFound: the manifest or tag does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidRequest: bad input (a reference, a tag, an option).
	ErrInvalidRequest = errors.New("invalid request")
)

// MismatchError is a verification failure: What names the thing that
// differs, in one line. It matches ErrVerifyMismatch.
type MismatchError struct {
	Ref  string // the manifest or blob concerned
	What string
}

func (e *MismatchError) Error() string { return e.Ref + ": " + e.What }

// Is makes errors.Is(err, ErrVerifyMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrVerifyMismatch }

func mismatch(ref, format string, args ...any) error {
	return &MismatchError{Ref: ref, What: fmt.Sprintf(format, args...)}
}

// TagExistsError: an immutable tag points at Current, not at Want.
type TagExistsError struct {
	Tag, Current, Want string
}

func (e *TagExistsError) Error() string {
	return fmt.Sprintf("immutable tag %s already points at %s, not %s (immutable tags are never overwritten)", e.Tag, e.Current, e.Want)
}

// Is makes errors.Is(err, ErrTagExists) true.
func (e *TagExistsError) Is(target error) bool { return target == ErrTagExists }

// BaselineMovedError: floating tag Tag points at Current ("none" when
// absent), not at the baseline From that was tested.
type BaselineMovedError struct {
	Tag, From, Current string
}

func (e *BaselineMovedError) Error() string {
	return fmt.Sprintf("baseline moved from %s to %s (floating tag %s); nothing moved", e.From, e.Current, e.Tag)
}

// Is makes errors.Is(err, ErrBaselineMoved) true.
func (e *BaselineMovedError) Is(target error) bool { return target == ErrBaselineMoved }

// isNotFound reports a 404 (or a registry's NAME_UNKNOWN/MANIFEST_UNKNOWN).
func isNotFound(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
			return true
		}
	}
	return false
}

// blobUnknown reports a manifest refused for a blob the registry did not
// find.
func blobUnknown(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.ManifestBlobUnknownErrorCode, transport.BlobUnknownErrorCode:
			return true
		}
	}
	return false
}

// notFound wraps err as ErrNotFound when it is a 404.
func notFound(what string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

// transient reports errors worth retrying at our level (a blob stream cut
// short): the same failures ggcr's retry predicate accepts.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.Temporary()
	}
	var nerr net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &nerr)
}
