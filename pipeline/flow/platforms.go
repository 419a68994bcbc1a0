package flow

import (
	"errors"
	"fmt"
	"strings"
)

// EmulationError is what the engine returns for an exec on a platform it
// cannot run (no emulation for it): the cell did not run, which is neither
// a test result nor a failure of the image. Test reports it as not run on
// that platform, and Promote leaves that cell out of the other run too, so
// the gate compares like with like.
type EmulationError struct {
	// Platform is the platform the engine cannot run.
	Platform string
	Err      error
}

func (e *EmulationError) Error() string {
	return fmt.Sprintf("the engine cannot run %s images (no emulation for it): %v", e.Platform, e.Err)
}

func (e *EmulationError) Unwrap() error { return e.Err }

// IsExecFormatError reports whether an exec error says the kernel could
// not run the binary ("exec format error"): an image of a platform the
// engine's host has no emulation for.
func IsExecFormatError(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "exec format error")
}

// errEmulation reports err's EmulationError, if any.
func errEmulation(err error) (*EmulationError, bool) {
	var ee *EmulationError
	ok := errors.As(err, &ee)
	return ee, ok
}

// OnPlatform is s with every image on platform ("" the first): the
// subject of a cell of that platform.
func (s Subject) OnPlatform(platform string) Subject {
	if platform == "" {
		return s
	}
	out := Subject{Role: s.Role, Images: make([]Target, len(s.Images))}
	for i, t := range s.Images {
		t.Platform = platform
		out.Images[i] = t
	}
	return out
}
