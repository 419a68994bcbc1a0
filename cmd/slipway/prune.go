package main

import (
	"context"
	"errors"
)

func runPrune(ctx context.Context, e *env, args []string) error {
	return usageErr(errors.New("not implemented yet: prune"))
}
