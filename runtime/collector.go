package runtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaCollector is the at-least-once collector: records go to the thread's producer at once and
// a commit waits for all of them (Client.Flush) before committing offsets. The first delivery
// failure is kept and fails the thread at its next check: a record the broker refused after the
// client's retries is output lost, which at-least-once cannot allow.
//
// Under exactly-once the client is transactional and the thread ends the transaction instead of
// flushing and committing offsets (eos.go); a failure there is the transaction's, and reset
// forgets it once the transaction is aborted. Records failed by the abort itself (kgo.ErrAborting)
// are no failure.
type kafkaCollector struct {
	cl      *kgo.Client
	promise func(*kgo.Record, error)
	mu      struct {
		sync.Mutex
		err error
	}
}

func newKafkaCollector(cl *kgo.Client, logger *slog.Logger) *kafkaCollector {
	c := &kafkaCollector{cl: cl}
	c.promise = func(r *kgo.Record, err error) {
		if err == nil || errors.Is(err, kgo.ErrAborting) {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.mu.err == nil {
			logger.Error("runtime: produce failed", "topic", r.Topic, "err", err)
			c.mu.err = err
		}
	}
	return c
}

func (c *kafkaCollector) send(r *kgo.Record) { c.cl.Produce(context.Background(), r, c.promise) }

// err returns the first delivery failure, if any.
func (c *kafkaCollector) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.err
}

// reset forgets the delivery failure, for an aborted transaction whose records are redone.
func (c *kafkaCollector) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.err = nil
}

// partitioner sends a record with a partition set (>= 0: changelog records) to that partition, and
// any other record by the murmur2 hash of its key, as Kafka's default partitioner does (a record
// without a key sticks to a partition per batch).
type partitioner struct{}

func (partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return &topicPartitioner{byKey: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
}

type topicPartitioner struct{ byKey kgo.TopicPartitioner }

func (p *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return r.Partition >= 0 || p.byKey.RequiresConsistency(r)
}

func (p *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 {
		return int(r.Partition)
	}
	return p.byKey.Partition(r, n)
}

func (p *topicPartitioner) OnNewBatch() {
	if nb, ok := p.byKey.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}

// kgoLogger passes franz-go's warnings and errors to slog.
type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		k.l.Error("kgo: "+msg, keyvals...)
	case kgo.LogLevelWarn:
		k.l.Warn("kgo: "+msg, keyvals...)
	default:
		k.l.Debug("kgo: "+msg, keyvals...)
	}
}
