//go:build !unix

package registry

// processAlive cannot tell here: every holder counts as alive.
func processAlive(int) bool { return true }
