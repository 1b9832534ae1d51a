package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readChunk is the most records Read hands to its callback at once.
const readChunk = 16 << 10

// KafkaChangelog is a Changelog over franz-go: it produces through the given client and restores
// with a fresh client per restore, assigned directly to the changelog partition (no group).
//
// The producing client must partition records by their Partition field:
// kgo.RecordPartitioner(kgo.ManualPartitioner()). Under exactly-once it is the task's
// transactional client, and changelog records join the transaction.
type KafkaChangelog struct {
	cl           *kgo.Client
	adm          *kadm.Client
	consumerOpts []kgo.Opt
}

// KafkaChangelogOpt configures a KafkaChangelog.
type KafkaChangelogOpt func(*KafkaChangelog)

// RestoreClientOpts are added to the options of the clients restores create, after the seed
// brokers (taken from the producing client) and the consume options. TLS and SASL go here.
func RestoreClientOpts(opts ...kgo.Opt) KafkaChangelogOpt {
	return func(k *KafkaChangelog) { k.consumerOpts = append(k.consumerOpts, opts...) }
}

// NewKafkaChangelog returns a Changelog producing through producer.
func NewKafkaChangelog(producer *kgo.Client, opts ...KafkaChangelogOpt) *KafkaChangelog {
	k := &KafkaChangelog{cl: producer, adm: kadm.NewClient(producer)}
	for _, o := range opts {
		o(k)
	}
	return k
}

// Produce implements ChangelogWriter.
func (k *KafkaChangelog) Produce(rec ChangelogRecord, done func(int64, error)) {
	r := &kgo.Record{Topic: rec.Topic, Partition: rec.Partition, Key: rec.Key, Value: rec.Value}
	if rec.Timestamp >= 0 {
		r.Timestamp = time.UnixMilli(rec.Timestamp)
	}
	k.cl.Produce(context.Background(), r, func(r *kgo.Record, err error) {
		done(r.Offset, err)
	})
}

// Flush implements ChangelogWriter. It flushes everything the client buffers, not only changelogs.
func (k *KafkaChangelog) Flush(ctx context.Context) error { return k.cl.Flush(ctx) }

// EnsureTopic implements TopicCreator.
func (k *KafkaChangelog) EnsureTopic(ctx context.Context, topic string, partitions int32, configs map[string]string) error {
	cfg := make(map[string]*string, len(configs))
	for name, v := range configs {
		cfg[name] = kadm.StringPtr(v)
	}
	_, err := k.adm.CreateTopic(ctx, partitions, -1, cfg, topic)
	if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
		return nil
	}
	return fmt.Errorf("state: create changelog topic %s: %w", topic, err)
}

// Offsets implements ChangelogReader: the log start offset and the last stable offset. Retriable
// errors (a topic just created, a leader moving) are retried for up to 5s or until ctx is done.
func (k *KafkaChangelog) Offsets(ctx context.Context, topic string, partition int32) (start, end int64, err error) {
	for attempt := 0; ; attempt++ {
		start, end, err = k.offsets(ctx, topic, partition)
		if err == nil || !kerr.IsRetriable(err) || attempt >= 50 {
			return start, end, err
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (k *KafkaChangelog) offsets(ctx context.Context, topic string, partition int32) (int64, int64, error) {
	lookup := func(l kadm.ListedOffsets, err error) (int64, error) {
		if err != nil {
			return 0, err
		}
		o, ok := l.Lookup(topic, partition)
		if !ok {
			return 0, fmt.Errorf("state: changelog %s[%d]: %w", topic, partition, kerr.UnknownTopicOrPartition)
		}
		if o.Err != nil {
			return 0, fmt.Errorf("state: changelog %s[%d]: %w", topic, partition, o.Err)
		}
		return o.Offset, nil
	}
	start, err := lookup(k.adm.ListStartOffsets(ctx, topic))
	if err != nil {
		return 0, 0, err
	}
	end, err := lookup(k.adm.ListCommittedOffsets(ctx, topic))
	if err != nil {
		return 0, 0, err
	}
	return start, end, nil
}

// Read implements ChangelogReader with read_committed isolation. Transaction markers are consumed
// (kgo.KeepControlRecords) so that Read knows when it has passed end-1, and are not given to fn.
func (k *KafkaChangelog) Read(ctx context.Context, topic string, partition int32, from, end int64, fn func([]ChangelogRecord) error) error {
	if from >= end {
		return nil
	}
	seeds, _ := k.cl.OptValue(kgo.SeedBrokers).([]string)
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(from)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxBytes(64 << 20),
		kgo.FetchMaxPartitionBytes(32 << 20),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}
	cl, err := kgo.NewClient(append(opts, k.consumerOpts...)...)
	if err != nil {
		return fmt.Errorf("state: restore client: %w", err)
	}
	defer cl.Close()

	// Records go to fn in chunks of bounded size: one Pebble batch each, and a slice that is
	// allocated once.
	batch := make([]ChangelogRecord, 0, readChunk)
	next := from
	for next < end {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, fe := range fs.Errors() {
			if fe.Err != nil && !kerr.IsRetriable(fe.Err) {
				return fmt.Errorf("state: read changelog %s[%d]: %w", topic, partition, fe.Err)
			}
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			if r.Topic != topic || r.Partition != partition || r.Offset < next || r.Offset >= end {
				continue
			}
			next = r.Offset + 1
			if r.Attrs.IsControl() {
				continue
			}
			batch = append(batch, ChangelogRecord{
				Topic: topic, Partition: partition, Offset: r.Offset,
				Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli(),
			})
			if len(batch) == readChunk {
				if err := fn(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}
