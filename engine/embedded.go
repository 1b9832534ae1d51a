package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/seichedb/seiche/broker"
)

// EmbeddedConfig configures StartEmbedded.
type EmbeddedConfig struct {
	// DataDir holds the broker's logs and the queries' state.
	DataDir string
	// BrokerAddr and HTTPAddr are the listen addresses (default 127.0.0.1:0 each: free ports).
	BrokerAddr, HTTPAddr string
	Logger               *slog.Logger
	// Opts are more engine options (properties, commit interval, ...).
	Opts []Opt
	// BrokerOpts are more broker options (topic defaults, ...).
	BrokerOpts []broker.Opt
}

// Embedded is a broker, an engine and its REST API in one process: what `seiche test --rest` and
// tests run statements against.
type Embedded struct {
	Broker *broker.Broker
	Engine *Engine
	API    *API
	// URL is the REST API's base URL, Bootstrap the broker's address.
	URL, Bootstrap string

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	errs   []error
	mu     sync.Mutex
}

// StartEmbedded starts a broker, an engine over it and the REST API, and returns once the engine has
// replayed its command topic.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.BrokerAddr == "" {
		cfg.BrokerAddr = "127.0.0.1:0"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bopts := append([]broker.Opt{broker.ListenAddr(cfg.BrokerAddr), broker.DataDir(filepath.Join(cfg.DataDir, "broker")),
		broker.Logger(cfg.Logger), broker.GroupInitialRebalanceDelay(0)}, cfg.BrokerOpts...)
	b, err := broker.New(bopts...)
	if err != nil {
		return nil, err
	}
	x := &Embedded{Broker: b, Bootstrap: b.Addr()}
	ctx, cancel := context.WithCancel(context.Background())
	x.cancel = cancel
	x.goroutine(func() error { return b.Run(ctx) })
	opts := append([]Opt{Bootstrap(b.Addr()), DataDir(filepath.Join(cfg.DataDir, "engine")), Logger(cfg.Logger)}, cfg.Opts...)
	e, err := New(opts...)
	if err != nil {
		x.Close()
		return nil, err
	}
	x.Engine = e
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		x.Close()
		return nil, fmt.Errorf("engine: REST API: %w", err)
	}
	x.API = NewAPI(e)
	x.API.ClusterID = b.ClusterID()
	x.API.Gatherers = append(x.API.Gatherers, b.Registry())
	x.URL = "http://" + ln.Addr().String()
	x.goroutine(func() error { return e.Run(ctx) })
	x.goroutine(func() error { return x.API.Serve(ctx, ln) })
	select {
	case <-e.Ready():
	case <-time.After(60 * time.Second):
		x.Close()
		return nil, errors.New("engine: not ready after 60s")
	}
	return x, nil
}

func (x *Embedded) goroutine(fn func() error) {
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
			x.mu.Lock()
			x.errs = append(x.errs, err)
			x.mu.Unlock()
		}
	}()
}

// Close stops the API, the engine (committing its queries) and the broker (flushing), in that order.
// It is idempotent.
func (x *Embedded) Close() error {
	x.once.Do(func() {
		if x.Engine != nil {
			_ = x.Engine.Close()
		}
		x.cancel()
		x.wg.Wait()
		_ = x.Broker.Close()
	})
	x.mu.Lock()
	defer x.mu.Unlock()
	return errors.Join(x.errs...)
}

// TestBrokerOpts are the broker options for running test cases: topics keep every record, whatever
// its age. Test files timestamp their records near the epoch (ksqlDB's use 0 to a few seconds), and
// the default retention.ms (7 days) would let a retention pass delete a case's inputs between their
// being written and a query reading them; the query would then start at the end and see nothing.
func TestBrokerOpts() []broker.Opt {
	return []broker.Opt{broker.TopicDefaults(map[string]string{"retention.ms": "-1"})}
}

// TestOpts are the engine options for running test cases: queries commit every 100ms (so pull
// queries and the runner's offset checks see their work at once), push queries fail over fast, and
// queries read their inputs from the start.
func TestOpts() []Opt {
	return []Opt{CommitInterval(100 * time.Millisecond), SessionTimeout(6 * time.Second),
		Properties(map[string]string{"auto.offset.reset": "earliest"})}
}
