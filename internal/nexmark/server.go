package nexmark

import (
	"context"
	"errors"

	"github.com/seichedb/seiche/runtime"
)

func measureServer(ctx context.Context, cfg Config, q Query, in []runtime.RawRecord) (Result, error) {
	return Result{}, errors.New("server mode: not implemented")
}
