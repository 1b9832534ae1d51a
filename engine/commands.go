package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// commandVersion is the version of the command record format this server writes. A record of a
// newer version is skipped with an error in the log.
const commandVersion = 1

// command is one record of the command topic: a statement and the properties it was issued with.
// The record's key is unique per command, so compaction never removes one.
type command struct {
	Version    int               `json:"version"`
	Statement  string            `json:"statement"`
	Properties map[string]string `json:"properties,omitempty"`
}

// commandResult is what applying a command did.
type commandResult struct {
	message string
	queryID string
	err     error
}

// appendCommand appends c to the command topic and waits until the runner has applied it.
func (k *kafkaBackend) appendCommand(ctx context.Context, c command) (int64, commandResult, error) {
	c.Version = commandVersion
	val, err := json.Marshal(c)
	if err != nil {
		return 0, commandResult{}, err
	}
	rec := &kgo.Record{Topic: k.e.commandTopic, Partition: 0, Key: []byte(randomID() + randomID()), Value: val}
	if err := k.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return 0, commandResult{}, fmt.Errorf("engine: could not write to the command topic: %w", err)
	}
	off := rec.Offset
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.mu.applied <= off && !k.mu.closed {
		if ctx.Err() != nil {
			return off, commandResult{}, ctx.Err()
		}
		k.mu.cond.Wait()
	}
	if k.mu.applied <= off {
		return off, commandResult{}, ErrClosed
	}
	r := k.mu.results[off]
	delete(k.mu.results, off)
	return off, r, nil
}

// closeLog wakes the waiters of appendCommand and waitApplied for good: nothing will be applied.
func (k *kafkaBackend) closeLog() {
	k.mu.Lock()
	k.mu.closed = true
	k.mu.cond.Broadcast()
	k.mu.Unlock()
}

// waitApplied waits until every command written before now has been applied, so a statement sees
// the effect of statements that other requests (or other servers) have had accepted.
func (k *kafkaBackend) waitApplied(ctx context.Context) error {
	offs, err := k.adm.ListEndOffsets(ctx, k.e.commandTopic)
	if err != nil {
		return err
	}
	o, ok := offs.Lookup(k.e.commandTopic, 0)
	if !ok || o.Err != nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.mu.applied < o.Offset && !k.mu.closed && ctx.Err() == nil {
		k.mu.cond.Wait()
	}
	return ctx.Err()
}

// runCommands replays the command log, starts the queries it leaves running, then applies new
// commands as they come. It is the only goroutine that changes the metastore and the query set.
func (k *kafkaBackend) runCommands(ctx context.Context) error {
	e := k.e
	ends, err := k.adm.ListEndOffsets(ctx, e.commandTopic)
	if err != nil {
		return fmt.Errorf("engine: command topic: %w", err)
	}
	end := int64(0)
	if o, ok := ends.Lookup(e.commandTopic, 0); ok && o.Err == nil {
		end = o.Offset
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.bootstrap...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{e.commandTopic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	defer cl.Close()
	// Wake waiters when ctx ends.
	stop := context.AfterFunc(ctx, func() {
		k.mu.Lock()
		k.mu.cond.Broadcast()
		k.mu.Unlock()
	})
	defer stop()
	replaying := end > 0
	started := time.Now()
	// readyAt is the offset the runner must have applied before the engine is ready: the end of the
	// log at start, and the processing log stream's command when this server adds it.
	readyAt := int64(-1)
	afterReplay := func() {
		if off := k.processingLogCommand(ctx); off >= 0 {
			readyAt = off + 1
			return
		}
		e.markReady(time.Since(started))
	}
	if !replaying {
		afterReplay()
	}
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fs.EachError(func(t string, p int32, err error) {
			e.log.Warn("reading the command topic", "topic", t, "partition", p, "err", err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			res := e.applyRecord(ctx, r, replaying)
			k.mu.Lock()
			k.mu.results[r.Offset] = res
			k.mu.applied = r.Offset + 1
			k.mu.cond.Broadcast()
			k.mu.Unlock()
			if replaying && r.Offset+1 >= end {
				replaying = false
				e.startQueries()
				afterReplay()
			}
			if readyAt >= 0 && r.Offset+1 >= readyAt {
				readyAt = -1
				e.markReady(time.Since(started))
			}
		})
	}
}

// processingLogStream is the stream over the processing log topic, which every server creates unless
// it exists.
const processingLogStream = "SEICHE_PROCESSING_LOG"

// processingLogCommand appends the CREATE STREAM of SEICHE_PROCESSING_LOG over the processing log topic,
// with the columns of runtime.ProcessingLogEntry, unless the stream exists. It returns the command's
// offset, or -1. The runner applies it like any command; the engine is ready once it has.
func (k *kafkaBackend) processingLogCommand(ctx context.Context) int64 {
	e := k.e
	if _, ok := e.meta.Source(processingLogStream); ok {
		return -1
	}
	stmt := "CREATE STREAM IF NOT EXISTS " + processingLogStream + " (`TYPE` STRING, `APPLICATION` STRING, `TASK` STRING, " +
		"`NODE` STRING, `TOPIC` STRING, `PARTITION` INT, `OFFSET` BIGINT, `MESSAGE` STRING, `TIME` BIGINT) " +
		"WITH (KAFKA_TOPIC='" + e.plogTopic + "', VALUE_FORMAT='JSON');"
	val, _ := json.Marshal(command{Version: commandVersion, Statement: stmt})
	rec := &kgo.Record{Topic: e.commandTopic, Partition: 0, Key: []byte(processingLogStream), Value: val}
	if err := k.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		e.log.Warn("creating the processing log stream", "err", err)
		return -1
	}
	return rec.Offset
}

func (e *Engine) markReady(took time.Duration) {
	e.mu.Lock()
	n := len(e.mu.queries)
	e.mu.Unlock()
	e.log.Info("engine ready", "service_id", e.cfg.serviceID, "command_topic", e.commandTopic, "queries", n, "replay", took.Round(time.Millisecond))
	close(e.ready)
}

// applyRecord decodes and applies one command record. A record that cannot be decoded is skipped
// with an error in the log: a crash loop on one bad record would stop every server of the service.
func (e *Engine) applyRecord(ctx context.Context, r *kgo.Record, replaying bool) commandResult {
	if r.Value == nil {
		return commandResult{}
	}
	var c command
	if err := json.Unmarshal(r.Value, &c); err != nil {
		e.log.Error("skipping a command record that cannot be decoded", "offset", r.Offset, "err", err)
		return commandResult{err: fmt.Errorf("engine: corrupt command record at offset %d: %w", r.Offset, err)}
	}
	if c.Version > commandVersion {
		e.log.Error("skipping a command of a newer version", "offset", r.Offset, "version", c.Version)
		return commandResult{err: fmt.Errorf("engine: command at offset %d has version %d; this server reads up to %d", r.Offset, c.Version, commandVersion)}
	}
	res := e.apply(ctx, r.Offset, c, replaying)
	if res.err != nil {
		e.log.Warn("command failed", "offset", r.Offset, "statement", c.Statement, "err", res.err)
	}
	return res
}
