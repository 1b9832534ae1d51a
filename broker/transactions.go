package broker

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/seichedb/seiche/broker/internal/storage"
	"github.com/seichedb/seiche/broker/internal/txn"
)

// Internal topics: Kafka's consumer offsets topic and its transaction log. Seiche keeps committed
// offsets and the transaction coordinator's state in its metadata store rather than in partition logs,
// but lists both topics in Metadata as a Kafka cluster that has used groups and transactions does
// (IsInternal, one partition led by this broker, a stable topic ID), so that clients and tools that
// filter internal topics see what they expect. Clients cannot create them or produce to them
// (INVALID_TOPIC_EXCEPTION, as Kafka answers a produce to an internal topic), nor read them
// (TOPIC_AUTHORIZATION_FAILED: they exist, but not as logs).
const (
	consumerOffsetsTopic  = "__consumer_offsets"
	transactionStateTopic = "__transaction_state"
)

var internalTopics = []string{consumerOffsetsTopic, transactionStateTopic}

func isInternalTopic(name string) bool {
	return name == consumerOffsetsTopic || name == transactionStateTopic
}

// internalTopicID is an internal topic's topic ID: derived from the cluster ID and the name, so that it
// is non-zero, differs between clusters as Kafka's random IDs do, and stays the same across restarts
// (KIP-848 assignments and share fetches name topics by ID only).
func internalTopicID(clusterID, name string) [16]byte {
	sum := sha256.Sum256([]byte(clusterID + "\x00" + name))
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x80 // a name-based UUID (RFC 9562 version 8), never all zeros
	id[8] = id[8]&0x3f | 0x80
	return id
}

// coordinatorEpoch is the epoch stamped on transaction markers: the coordinator never moves.
const coordinatorEpoch = 0

func newTxnCoordinator(b *Broker) (*txn.Coordinator, error) {
	return txn.New(b.meta, txn.Options{
		Logger:          b.logger.With("component", "txn"),
		NextProducerID:  b.pids.next,
		PartitionExists: b.topics.partitionExists,
		WriteMarkers:    b.writeMarkers,
		CompleteOffsets: b.groups.CompleteTxnOffsets,
		MaxTimeout:      b.cfg.txnMaxTimeout,
		AbortInterval:   b.cfg.txnAbortInterval,
	})
}

// writeMarkers appends the producer's commit or abort marker to each partition and waits until every
// one is durable. Partitions deleted since they joined the transaction are skipped.
func (b *Broker) writeMarkers(ctx context.Context, pid int64, epoch int16, commit bool, parts []txn.TopicPartition) error {
	type written struct {
		p    *partition
		last int64
	}
	var ws []written
	var errs []error
	for _, tp := range parts {
		p := b.topics.partition(tp.Topic, tp.Partition)
		if p == nil {
			continue
		}
		res, err := p.log.AppendMarker(pid, epoch, commit, coordinatorEpoch)
		if err != nil {
			if errors.Is(err, storage.ErrClosed) {
				continue // deleted meanwhile
			}
			errs = append(errs, fmt.Errorf("%s-%d: %w", tp.Topic, tp.Partition, err))
			continue
		}
		p.appended()
		p.log.RequestFlush()
		ws = append(ws, written{p, res.LastOffset})
	}
	for _, w := range ws {
		if err := w.p.log.WaitDurable(ctx, w.last); err != nil && !errors.Is(err, storage.ErrClosed) {
			errs = append(errs, fmt.Errorf("%s-%d: %w", w.p.topic, w.p.index, err))
		}
	}
	return errors.Join(errs...)
}

// fencedCode is the error a coordinator request of the given version gets for a fenced producer:
// PRODUCER_FENCED from the version that introduced it (KIP-588), INVALID_PRODUCER_EPOCH before.
func fencedCode(err *kerr.Error, version, fencedFrom int16) int16 {
	if err == nil {
		return 0
	}
	if err == kerr.ProducerFenced && version < fencedFrom {
		return kerr.InvalidProducerEpoch.Code
	}
	return err.Code
}
