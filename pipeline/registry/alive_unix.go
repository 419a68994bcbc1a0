//go:build unix

package registry

import (
	"errors"
	"syscall"
)

// processAlive reports whether pid exists in this pid namespace (a
// process of another user counts: EPERM).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || !errors.Is(err, syscall.ESRCH)
}
