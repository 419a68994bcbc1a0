package flow

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/matrix"
)

// ImageConfig is what the engine reads from an image's config for the
// smoke check: how the image starts, and how it says it is healthy.
type ImageConfig struct {
	// Entrypoint and Cmd as the image declares them (ENTRYPOINT, CMD).
	Entrypoint, Cmd []string
	// Health is the image's HEALTHCHECK; nil when it has none (or NONE).
	Health *Healthcheck
	// Shell is true when the image has /bin/sh: the smoke check then runs
	// the command and its health check under a small sh supervisor. An
	// image without one (distroless, scratch) is run directly, and only
	// the exit and duration rules apply.
	Shell bool
}

// Healthcheck is an image's HEALTHCHECK command.
type Healthcheck struct {
	// Args is the command: exec form, or one shell string when Shell.
	Args []string
	// Shell is true for the CMD-SHELL form.
	Shell bool
}

// ErrNothingToStart is the smoke check's error for an image with neither
// ENTRYPOINT nor CMD.
var ErrNothingToStart = errors.New("the image has no ENTRYPOINT and no CMD: the smoke check has nothing to start (give the Dockerfile a CMD, or configure test.suites)")

// smokeScript supervises the image's command: it starts it, then once a
// second checks whether it exited (its exit code is the result), whether
// the HEALTHCHECK passes (exit 0), or whether the duration is over (exit 0
// while it still runs, unless a HEALTHCHECK never passed: exit 1). Its
// arguments: seconds, the health check as a shell command ("" for none),
// then the image's command.
const smokeScript = `secs=$1; health=$2; shift 2
"$@" &
pid=$!
i=0
while kill -0 "$pid" 2>/dev/null; do
  if [ -n "$health" ] && sh -c "$health" >/dev/null 2>&1; then
    echo "slipway smoke: the HEALTHCHECK passed after ${i}s"; kill "$pid" 2>/dev/null; exit 0
  fi
  if [ "$i" -ge "$secs" ]; then
    if [ -n "$health" ]; then
      echo "slipway smoke: still running after ${secs}s, but the HEALTHCHECK never passed"; kill "$pid" 2>/dev/null; exit 1
    fi
    echo "slipway smoke: still running after ${secs}s"; kill "$pid" 2>/dev/null; exit 0
  fi
  sleep 1
  i=$((i+1))
done
wait "$pid"
code=$?
echo "slipway smoke: the command exited with code $code"
exit "$code"
`

// SmokeExec returns how the engine runs attempt of the smoke cell c on an
// image configured as img (see config.Smoke for the rules). With a shell in
// the image, the command runs under smokeScript; without one, the command
// runs as it is with Window set to the duration, and a HEALTHCHECK cannot
// be run (the log says so).
func SmokeExec(c matrix.Cell, attempt int, img ImageConfig) (Exec, error) {
	argv := slices.Concat(img.Entrypoint, img.Cmd)
	if len(argv) == 0 {
		return Exec{}, ErrNothingToStart
	}
	x := ExecFor(c, attempt)
	x.Reports = nil
	if !img.Shell {
		x.Argv, x.Window = argv, c.Smoke
		return x, nil
	}
	secs := int((c.Smoke + time.Second - 1) / time.Second)
	x.Argv = slices.Concat([]string{"/bin/sh", "-c", smokeScript, "slipway-smoke", strconv.Itoa(secs), healthCommand(img.Health)}, argv)
	return x, nil
}

// healthCommand is h as one sh -c command, "" for none.
func healthCommand(h *Healthcheck) string {
	if h == nil || len(h.Args) == 0 {
		return ""
	}
	if h.Shell {
		return strings.Join(h.Args, " ")
	}
	quoted := make([]string, len(h.Args))
	for i, a := range h.Args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

// shellQuote quotes s for sh as one word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// smokeNote is what the log of a smoke attempt says about how it was run.
func smokeNote(img ImageConfig, window time.Duration) string {
	switch {
	case img.Shell:
		return ""
	case img.Health != nil:
		return fmt.Sprintf("slipway smoke: the image has no /bin/sh, so its HEALTHCHECK could not be run: it passes on exit 0 or when still running after %s", window)
	}
	return ""
}
