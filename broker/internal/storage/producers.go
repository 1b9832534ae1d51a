package storage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/seichedb/seiche/broker/internal/records"
)

// Idempotent producers: for each producer ID the log remembers its epoch and its last five batches
// (Kafka's max.in.flight.requests.per.connection bound for idempotence), so that a retried batch is
// answered with its original offsets instead of being written twice, and a gap in sequence numbers is
// refused.

const producerBatchesKept = 5

type batchMeta struct {
	FirstSeq, LastSeq      int32
	baseOffset, lastOffset int64
}

type producerState struct {
	Epoch   int16
	Batches []batchMeta // oldest first, at most producerBatchesKept
}

type producerStates map[int64]*producerState

func newProducerStates() producerStates { return make(producerStates) }

// check validates an idempotent batch's epoch and sequence against the producer's state. It returns the
// stored batch when this one is a retry of it.
func (ps producerStates) check(h records.Header) (*batchMeta, error) {
	if h.ProducerID < 0 || h.BaseSequence < 0 {
		return nil, nil
	}
	st, ok := ps[h.ProducerID]
	if !ok || len(st.Batches) == 0 {
		if ok && h.ProducerEpoch < st.Epoch {
			return nil, fmt.Errorf("%w: epoch %d is older than the producer's current epoch %d", ErrInvalidProducerEpoch, h.ProducerEpoch, st.Epoch)
		}
		if h.BaseSequence != 0 {
			// Kafka (KIP-360): a producer the log has no state for must start at sequence 0; the client
			// answers UNKNOWN_PRODUCER_ID by bumping its epoch and starting over.
			return nil, fmt.Errorf("%w: producer %d has no state here and sent sequence %d", ErrUnknownProducerID, h.ProducerID, h.BaseSequence)
		}
		return nil, nil
	}
	switch {
	case h.ProducerEpoch < st.Epoch:
		return nil, fmt.Errorf("%w: epoch %d is older than the producer's current epoch %d", ErrInvalidProducerEpoch, h.ProducerEpoch, st.Epoch)
	case h.ProducerEpoch > st.Epoch:
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: a new epoch %d must start at sequence 0, got %d", ErrOutOfOrderSequence, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	}
	for i := range st.Batches {
		b := &st.Batches[i]
		if b.FirstSeq == h.BaseSequence && b.LastSeq == h.LastSequence() {
			return b, nil
		}
	}
	last := st.Batches[len(st.Batches)-1].LastSeq
	if expect := nextSeq(last); h.BaseSequence != expect {
		return nil, fmt.Errorf("%w: producer %d expected sequence %d, got %d", ErrOutOfOrderSequence, h.ProducerID, expect, h.BaseSequence)
	}
	return nil, nil
}

func nextSeq(s int32) int32 {
	if s == 1<<31-1 {
		return 0
	}
	return s + 1
}

// update records an appended batch (with its offsets assigned).
func (ps producerStates) update(h records.Header) {
	if h.ProducerID < 0 || h.BaseSequence < 0 {
		return
	}
	st, ok := ps[h.ProducerID]
	if !ok {
		st = &producerState{Epoch: h.ProducerEpoch}
		ps[h.ProducerID] = st
	}
	if h.ProducerEpoch != st.Epoch {
		st.Epoch, st.Batches = h.ProducerEpoch, st.Batches[:0]
	}
	st.Batches = append(st.Batches, batchMeta{h.BaseSequence, h.LastSequence(), h.BaseOffset, h.LastOffset()})
	if len(st.Batches) > producerBatchesKept {
		st.Batches = append(st.Batches[:0], st.Batches[len(st.Batches)-producerBatchesKept:]...)
	}
}

// replay applies a batch found in the log during recovery.
func (ps producerStates) replay(h records.Header) { ps.update(h) }

// The snapshot file holds the producer state as of an offset, so recovery replays only the batches
// after it.
const producerSnapshotFile = "producer-state.json"

type snapshotBatch struct {
	FirstSeq   int32 `json:"fs"`
	LastSeq    int32 `json:"ls"`
	BaseOffset int64 `json:"bo"`
	LastOffset int64 `json:"lo"`
}

type snapshotProducer struct {
	ID      int64           `json:"id"`
	Epoch   int16           `json:"epoch"`
	Batches []snapshotBatch `json:"batches"`
}

type snapshotFile struct {
	Offset    int64              `json:"offset"`
	Producers []snapshotProducer `json:"producers"`
}

type producerSnapshot struct {
	offset int64
	states producerStates
}

func writeProducerSnapshot(dir string, offset int64, ps *producerStates) error {
	sf := snapshotFile{Offset: offset}
	for id, st := range *ps {
		sp := snapshotProducer{ID: id, Epoch: st.Epoch}
		for _, b := range st.Batches {
			sp.Batches = append(sp.Batches, snapshotBatch{b.FirstSeq, b.LastSeq, b.baseOffset, b.lastOffset})
		}
		sf.Producers = append(sf.Producers, sp)
	}
	data, err := json.Marshal(sf)
	if err != nil {
		return err
	}
	return writeFileSync(filepath.Join(dir, producerSnapshotFile), data)
}

func readProducerSnapshot(dir string) (producerSnapshot, error) {
	data, err := os.ReadFile(filepath.Join(dir, producerSnapshotFile))
	if err != nil {
		return producerSnapshot{}, err
	}
	var sf snapshotFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return producerSnapshot{}, err
	}
	ps := newProducerStates()
	for _, sp := range sf.Producers {
		st := &producerState{Epoch: sp.Epoch}
		for _, b := range sp.Batches {
			st.Batches = append(st.Batches, batchMeta{b.FirstSeq, b.LastSeq, b.BaseOffset, b.LastOffset})
		}
		ps[sp.ID] = st
	}
	return producerSnapshot{offset: sf.Offset, states: ps}, nil
}
