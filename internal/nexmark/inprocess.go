package nexmark

import (
	"context"
	"fmt"
	goruntime "runtime"
	"sync/atomic"
	"time"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/runtime"
	seichesql "github.com/seichedb/seiche/sql"
	"github.com/seichedb/seiche/sql/analyzer"
)

// Topology returns q's topology: the SQL's, compiled by the planner, or the DSL program's.
func (q Query) Topology(impl string) (*runtime.Topology, error) {
	if impl == ImplDSL {
		if q.DSL == nil {
			return nil, fmt.Errorf("%s has no DSL program", q.Name)
		}
		return q.DSL().Build()
	}
	return seichesql.Compile(analyzer.NewMetastore(), DDL+q.SQL)
}

// inProcessBatch is how many input records the in-process runs pipe at once: Kafka Streams'
// max.poll.records default, what one poll hands a stream thread. The test drivers commit their
// stores once per batch (runtime.TestDriver.PipeInputs); the test session pipes record by record.
const inProcessBatch = 500

// measureInProcess pipes in through q on impl, with no broker, and times the piping. The CPU time
// is this process's. The records are unpacked a batch at a time, into one reused slice, within
// the timed part (what a consumer's poll would hand the query).
func measureInProcess(ctx context.Context, cfg Config, q Query, impl string, in packedRecords) (Result, error) {
	var r Result
	var pipe func([]runtime.RawRecord) error
	var outputs func() int64
	switch impl {
	case ImplSQL:
		s := engine.NewTestSession(nil)
		defer s.Close()
		for _, t := range Topics {
			if err := s.CreateTopic(t, 1); err != nil {
				return r, err
			}
		}
		if _, err := s.Execute(ctx, DDL+q.SQL); err != nil {
			return r, err
		}
		pipe = func(recs []runtime.RawRecord) error {
			for _, rec := range recs {
				if err := s.Pipe(ctx, rec); err != nil {
					return err
				}
			}
			return nil
		}
		outputs = func() int64 { return int64(len(s.Written(q.Output()))) }
	case ImplSQLTopology, ImplDSL:
		topo, err := q.Topology(impl)
		if err != nil {
			return r, err
		}
		d, err := runtime.NewTestDriver(topo)
		if err != nil {
			return r, err
		}
		defer d.Close()
		var n int64
		pipe = func(recs []runtime.RawRecord) error {
			if err := d.PipeInputs(ctx, recs); err != nil {
				return err
			}
			for _, sink := range q.Sinks {
				for {
					if _, ok := d.ReadOutput(sink); !ok {
						break
					}
					if sink == q.Output() {
						n++
					}
				}
			}
			return nil
		}
		outputs = func() int64 { return n }
	default:
		return r, fmt.Errorf("unknown implementation %q", impl)
	}
	goruntime.GC()
	cpu0, t0 := cpuTime(), time.Now()
	var piped atomic.Int64
	stop := startProgress(cfg, q, impl, t0, func() string {
		return fmt.Sprintf("%d of %d input records processed", piped.Load(), in.Len())
	})
	defer stop()
	batch := make([]runtime.RawRecord, 0, inProcessBatch)
	for lo := 0; lo < in.Len(); lo += inProcessBatch {
		batch = in.appendTo(batch[:0], lo, min(lo+inProcessBatch, in.Len()))
		if err := pipe(batch); err != nil {
			return r, err
		}
		piped.Add(int64(len(batch)))
	}
	r.Wall, r.CPU = time.Since(t0), cpuTime()-cpu0
	r.CPUOf = "this process"
	r.Outputs = outputs()
	return r, nil
}
