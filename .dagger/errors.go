package main

import (
	"errors"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// keepContext makes *err reach the user whole. The Go SDK returns only the
// engine error inside a function's error that wraps exactly one
// (DESIGN.md §9): the context and the hints Slipway wraps around it ("set
// ephemeral.image to a mirror", which image or stage failed) would be
// lost. Such an error is replaced by one with its whole message; an error
// that is the engine error itself keeps its details (an exec's output).
func keepContext(err *error) {
	var ge *gqlerror.Error
	if *err != nil && errors.As(*err, &ge) && ge.Message != (*err).Error() {
		*err = errors.New((*err).Error())
	}
}
