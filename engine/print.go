package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/types"
)

// print runs PRINT topic: each record as one line in ksqlDB's format, from the end of the topic (or
// its beginning with FROM BEGINNING), every INTERVAL-th record, until LIMIT or Close.
func (e *Engine) print(ctx context.Context, p *parser.Print, props map[string]string) (*Result, error) {
	if _, exists, err := e.topicPartitions(ctx, p.Topic); err != nil {
		return nil, err
	} else if !exists {
		return nil, &StatementError{Code: codeBadStatement, Message: "Could not find topic '" + p.Topic + "', or the KSQL user does not have permissions to list the topic. Topic names are case-sensitive."}
	}
	start := kgo.NewOffset().AtEnd()
	if p.FromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.cfg.bootstrap...), kgo.ConsumeTopics(p.Topic), kgo.ConsumeResetOffset(start))
	if err != nil {
		return nil, err
	}
	rows := make(chan Row, 16)
	qctx, cancel := context.WithCancel(e.ctx)
	res := &Result{ID: "print_" + randomID(), Columns: []types.Column{{Name: "RECORD", Type: types.String}}, Schema: "`RECORD` STRING", Rows: rows}
	interval := p.Interval
	if interval <= 0 {
		interval = 1
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(rows)
		defer cl.Close()
		var seen, sent int64
		for {
			fs := cl.PollFetches(qctx)
			if qctx.Err() != nil {
				return
			}
			stop := false
			fs.EachRecord(func(r *kgo.Record) {
				if stop {
					return
				}
				seen++
				if (seen-1)%interval != 0 {
					return
				}
				line := fmt.Sprintf("rowtime: %s, key: %s, value: %s, partition: %d",
					r.Timestamp.UTC().Format("2006/01/02 15:04:05.000 MST"), printable(r.Key), printable(r.Value), r.Partition)
				select {
				case rows <- Row{Values: types.Row{line}}:
				case <-qctx.Done():
					stop = true
					return
				}
				sent++
				if p.Limit >= 0 && sent >= p.Limit {
					res.mu.Lock()
					res.Limited = true
					res.mu.Unlock()
					stop = true
				}
			})
			if stop {
				return
			}
		}
	}()
	var once sync.Once
	res.close = func() {
		once.Do(func() {
			cancel()
			for range rows {
			}
			<-done
		})
	}
	return res, nil
}

// printable renders record bytes: as text when they are UTF-8, else as a long when they are 8 bytes,
// else as hex.
func printable(b []byte) string {
	switch {
	case b == nil:
		return "<null>"
	case utf8.Valid(b):
		return string(b)
	case len(b) == 8:
		var n int64
		for _, c := range b {
			n = n<<8 | int64(c)
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%x", b)
}
