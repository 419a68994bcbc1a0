package report

// CannotRun reports the exit codes with which a POSIX shell says a command
// could not run at all: 126 (found, not executable) and 127 (not found).
// Such a cell ran no test: retrying it cannot help, and on a baseline it
// says the baseline cannot run the suite, not that its tests fail.
func CannotRun(exitCode int) bool { return exitCode == 126 || exitCode == 127 }
