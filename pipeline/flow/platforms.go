package flow

import (
	"errors"
	"fmt"
	"slices"
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

// MachineError is an image of a platform after the first whose binaries
// are another machine's: a base image with no variant for the platform
// (a single-platform image), which the build took as it was. Its cells
// would run (natively, or emulated for that other machine) and pass, and
// say nothing about the platform: they are not run, like those of a
// platform the engine cannot emulate, and the report says why.
type MachineError struct {
	// Platform is the platform the image was built for.
	Platform string
	// Machine is what `uname -m` printed in it.
	Machine string
}

func (e *MachineError) Error() string {
	return fmt.Sprintf("the engine cannot run it as %s: its binaries are %s (a base image with no %s variant, which the build took as it was)",
		e.Platform, e.Machine, e.Platform)
}

// machines are what `uname -m` prints for each platform's binaries.
var machines = map[string][]string{
	"linux/amd64":    {"x86_64"},
	"linux/arm64":    {"aarch64", "arm64"},
	"linux/arm64/v8": {"aarch64", "arm64"},
	"linux/arm/v7":   {"armv7l", "armv8l"},
	"linux/arm/v6":   {"armv6l"},
	"linux/386":      {"i386", "i486", "i586", "i686"},
	"linux/ppc64le":  {"ppc64le"},
	"linux/s390x":    {"s390x"},
	"linux/riscv64":  {"riscv64"},
}

// CheckMachine checks what `uname -m` printed in an image built for
// platform: a *MachineError when it is another platform's machine. An
// empty or unknown output, or a platform not listed, cannot tell: nil.
func CheckMachine(platform, uname string) error {
	got := strings.TrimSpace(uname)
	want, known := machines[platform]
	if got == "" || strings.ContainsAny(got, " \n") || !known || slices.Contains(want, got) {
		return nil
	}
	for _, ms := range machines {
		if slices.Contains(ms, got) {
			return &MachineError{Platform: platform, Machine: got}
		}
	}
	return nil
}

// notRun reports why err means a cell could not run on its platform (an
// EmulationError or a MachineError), if it does.
func notRun(err error) (string, bool) {
	var ee *EmulationError
	var me *MachineError
	switch {
	case errors.As(err, &ee):
		return ee.Error(), true
	case errors.As(err, &me):
		return me.Error(), true
	}
	return "", false
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
