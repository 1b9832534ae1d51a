package engine

import (
	"context"
	"log/slog"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
)

// TestSession is an engine in process, without a broker: what test runners (sql/qtt, `seiche test`)
// run statements on. Statements go through the server's own path (Engine.Execute: parsing,
// analysis, validation, the command log, the metastore, planning, query ids and answers); only the
// backend differs (driverBackend): topics are in memory, and each persistent query runs on a
// synchronous runtime.TestDriver, so a record piped in has been processed by every query, and what
// it led to, when Pipe returns.
//
// A TestSession runs its statements and queries on its caller's goroutine: nothing of it runs between
// calls, and Close returns once all it started has stopped. It is not safe for concurrent use.
type TestSession struct {
	e  *Engine
	be *driverBackend
}

// NewTestSession returns a session whose statements see props as the server's properties (as a
// QTT case's "properties"). Queries read their sources from the start unless props set
// auto.offset.reset.
func NewTestSession(props map[string]string) *TestSession {
	cfg := defaultConfig()
	cfg.logger = slog.New(slog.DiscardHandler)
	cfg.props["auto.offset.reset"] = "earliest"
	for k, v := range props {
		cfg.props[k] = v
	}
	e := newEngine(cfg)
	be := newDriverBackend(e)
	e.be = be
	close(e.ready)
	return &TestSession{e: e, be: be}
}

// CreateTopic creates a topic with the given number of partitions unless it exists: the topics a
// test declares, which its statements expect to exist as they would on a cluster.
func (s *TestSession) CreateTopic(name string, partitions int32) error {
	return s.be.createTopic(context.Background(), name, partitions, nil)
}

// Execute runs the statements of sql in order, as a /ksql request does: none when sql does not
// parse, and up to the first that fails. The error is then a *StatementError. Queries (SELECT,
// PRINT) are not run.
func (s *TestSession) Execute(ctx context.Context, sql string) ([]Entity, error) {
	ents, err := s.e.Execute(ctx, Request{KSQL: sql})
	if err != nil {
		return ents, err
	}
	return ents, nil
}

// Pipe writes r to r.Topic (its Partition and Offset are ignored) and returns once every running
// query has processed it and what it led to. It returns the error of the first query that fails
// (which stays in state ERROR, and what it had not processed is dropped), or ctx's error when ctx
// is done first: a query that feeds its own input stops there.
func (s *TestSession) Pipe(ctx context.Context, r runtime.RawRecord) error {
	return s.be.produce(ctx, r)
}

// Written returns the records written to topic so far, in order: inputs, INSERT VALUES rows and
// queries' outputs.
func (s *TestSession) Written(topic string) []runtime.RawRecord { return s.be.written(topic) }

// Metastore returns the session's catalog. It is safe for concurrent reads; only Execute changes it.
func (s *TestSession) Metastore() *analyzer.Metastore { return s.e.meta }

// Close stops every query and releases the drivers. It is idempotent.
func (s *TestSession) Close() error { return s.e.Close() }
