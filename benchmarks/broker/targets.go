package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/seichedb/seiche/broker"
)

// target is a broker under test, running in this process.
type target struct {
	name  string
	addr  string
	close func() error
}

// start starts the named broker on 127.0.0.1 port 0. Every goroutine the broker starts carries the
// profiler label broker=<name>, so that a CPU profile tells the broker's samples from the clients'
// (go tool pprof -tagfocus broker=seiche); the garbage collector's are in neither.
func start(ctx context.Context, name, dir string) (t *target, err error) {
	pprof.Do(ctx, pprof.Labels("broker", name), func(ctx context.Context) {
		t, err = startUnlabelled(ctx, name, dir)
	})
	return t, err
}

func startUnlabelled(ctx context.Context, name, dir string) (*target, error) {
	switch name {
	case targetSeiche:
		return startSeiche(ctx, dir)
	case targetKfake:
		return startKfake(targetKfake)
	case targetCeiling:
		return startKfake(targetCeiling, kfake.BlackholeProduce())
	}
	return nil, fmt.Errorf("unknown target %q", name)
}

// startSeiche starts a Seiche broker with its data in a new directory under dir, removed on close.
func startSeiche(ctx context.Context, dir string) (*target, error) {
	data, err := os.MkdirTemp(dir, "seiche-bench-")
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := broker.New(
		broker.ListenAddr("127.0.0.1:0"),
		broker.DataDir(data),
		broker.Logger(quiet),
		broker.GroupInitialRebalanceDelay(0),
	)
	if err != nil {
		os.RemoveAll(data)
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	return &target{
		name: targetSeiche,
		addr: b.Addr(),
		close: func() error {
			err := b.Close()
			select {
			case rerr := <-done:
				err = errors.Join(err, rerr)
			case <-time.After(30 * time.Second):
				err = errors.Join(err, errors.New("broker did not stop within 30s"))
			}
			return errors.Join(err, os.RemoveAll(data))
		},
	}, nil
}

// startKfake starts a one-broker kfake cluster. It keeps everything in memory.
func startKfake(name string, opts ...kfake.Opt) (*target, error) {
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &target{
		name:  name,
		addr:  c.ListenAddrs()[0],
		close: func() error { c.Close(); return nil },
	}, nil
}
