package main

import (
	"context"
	"errors"
)

func runGate(ctx context.Context, e *env, args []string) error {
	return usageErr(errors.New("not implemented yet: gate"))
}
