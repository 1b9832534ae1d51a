package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"unicode"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/types"
)

// print runs PRINT topic: each record as one line in ksqlDB's format, from the end of the topic (or
// its beginning with FROM BEGINNING), every INTERVAL-th record, until LIMIT or Close.
func (e *Engine) print(ctx context.Context, p *parser.Print, props map[string]string) (*Result, error) {
	topic, err := e.printTopic(ctx, p.Topic)
	if err != nil {
		return nil, err
	}
	start := kgo.NewOffset().AtEnd()
	if p.FromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kafka.bootstrap...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start))
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

// printable renders record bytes the way ksqlDB's PRINT guesses their format: text when they are
// printable UTF-8, else a KAFKA INT (4 bytes) or BIGINT (8 bytes), else hex.
func printable(b []byte) string {
	switch {
	case b == nil:
		return "<null>"
	case utf8.Valid(b) && !strings.ContainsFunc(string(b), func(r rune) bool { return unicode.IsControl(r) && !unicode.IsSpace(r) }):
		return string(b)
	case len(b) == 4:
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(b))), 10)
	case len(b) == 8:
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(b)), 10)
	}
	return fmt.Sprintf("%x", b)
}

// printTopic resolves PRINT's topic: the name as written, else the one topic whose name matches it
// ignoring case (an unquoted name is upper-cased by the parser), as ksqlDB does.
func (e *Engine) printTopic(ctx context.Context, name string) (string, error) {
	if _, exists, err := e.be.topicPartitions(ctx, name); err != nil {
		return "", err
	} else if exists {
		return name, nil
	}
	topics, err := e.be.topics(ctx)
	if err != nil {
		return "", err
	}
	var match []string
	for _, t := range topics {
		if strings.EqualFold(t.name, name) {
			match = append(match, t.name)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	return "", &StatementError{Code: codeBadStatement, Message: "Could not find topic '" + name + "', or the KSQL user does not have permissions to list the topic. Topic names are case-sensitive."}
}
