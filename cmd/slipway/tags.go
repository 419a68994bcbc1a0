package main

import (
	"context"
	"errors"
)

func runTags(ctx context.Context, e *env, args []string) error {
	return usageErr(errors.New("not implemented yet: tags"))
}
