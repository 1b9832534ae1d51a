package storage

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/seichedb/seiche/broker/internal/records"
)

// Idempotent producers: for each producer ID the log remembers its epoch and its last five batches
// (Kafka's max.in.flight.requests.per.connection bound for idempotence), so that a retried batch is
// answered with its original offsets instead of being written twice, and a gap in sequence numbers is
// refused.
//
// Transactional producers: the log also remembers, per producer, the first offset of its open
// transaction, from its first transactional batch until the coordinator's commit or abort marker. The
// smallest such offset is the last stable offset; an abort marker yields an AbortedTxn for the
// segment's aborted-transaction index (Kafka's ProducerStateManager).

const producerBatchesKept = 5

type batchMeta struct {
	FirstSeq, LastSeq      int32
	baseOffset, lastOffset int64
}

type producerState struct {
	Epoch   int16
	Batches []batchMeta // oldest first, at most producerBatchesKept
	// LastTimestamp is the max timestamp of the producer's last data batch; CoordinatorEpoch that of
	// the transaction coordinator that wrote its last marker here (-1 before any), as DescribeProducers
	// reports them.
	LastTimestamp    int64
	CoordinatorEpoch int32
}

// producerStates is every producer the log has seen, and the transactions open in it.
type producerStates struct {
	byID map[int64]*producerState
	open map[int64]int64 // producer ID -> first offset of its open transaction
}

func newProducerStates() producerStates {
	return producerStates{byID: make(map[int64]*producerState), open: make(map[int64]int64)}
}

// AbortedTxn is one aborted transaction of a partition: its producer, the offset of its first batch in
// the partition and the offset of its abort marker. A read_committed consumer drops the producer's
// batches from FirstOffset until it reads the marker at LastOffset.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
	LastOffset  int64
}

// check validates an idempotent batch's epoch and sequence against the producer's state. It returns the
// stored batch when this one is a retry of it.
func (ps producerStates) check(h records.Header) (*batchMeta, error) {
	if h.ProducerID < 0 || h.BaseSequence < 0 {
		return nil, nil
	}
	st, ok := ps.byID[h.ProducerID]
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

// checkMarker validates a transaction marker's epoch: a marker never comes from an older epoch than
// the producer's data.
func (ps producerStates) checkMarker(pid int64, epoch int16) error {
	if st, ok := ps.byID[pid]; ok && epoch < st.Epoch {
		return fmt.Errorf("%w: marker epoch %d is older than the producer's current epoch %d", ErrInvalidProducerEpoch, epoch, st.Epoch)
	}
	return nil
}

func nextSeq(s int32) int32 {
	if s == 1<<31-1 {
		return 0
	}
	return s + 1
}

// update records an appended data batch (with its offsets assigned).
func (ps producerStates) update(h records.Header) {
	if h.ProducerID < 0 || h.BaseSequence < 0 || h.Control() {
		return
	}
	st := ps.stateFor(h.ProducerID, h.ProducerEpoch)
	st.LastTimestamp = h.MaxTimestamp
	st.Batches = append(st.Batches, batchMeta{h.BaseSequence, h.LastSequence(), h.BaseOffset, h.LastOffset()})
	if len(st.Batches) > producerBatchesKept {
		st.Batches = append(st.Batches[:0], st.Batches[len(st.Batches)-producerBatchesKept:]...)
	}
	if h.Transactional() {
		if _, ok := ps.open[h.ProducerID]; !ok {
			ps.open[h.ProducerID] = h.BaseOffset
		}
	}
}

// stateFor returns the producer's state, moved to epoch if that is newer: a new epoch starts its
// sequences over.
func (ps producerStates) stateFor(pid int64, epoch int16) *producerState {
	st, ok := ps.byID[pid]
	if !ok {
		st = &producerState{Epoch: epoch, LastTimestamp: -1, CoordinatorEpoch: -1}
		ps.byID[pid] = st
	}
	if epoch != st.Epoch {
		st.Epoch, st.Batches = epoch, st.Batches[:0]
	}
	return st
}

// endTxn records a transaction marker at offset, written by the coordinator of coordinatorEpoch (-1 if
// not known). It returns the aborted transaction for the index when the marker aborts a transaction
// that wrote data here.
func (ps producerStates) endTxn(pid int64, epoch int16, commit bool, offset int64, coordinatorEpoch int32) (AbortedTxn, bool) {
	if st := ps.stateFor(pid, epoch); coordinatorEpoch >= 0 {
		st.CoordinatorEpoch = coordinatorEpoch
	}
	first, ok := ps.open[pid]
	if !ok {
		return AbortedTxn{}, false
	}
	delete(ps.open, pid)
	if commit {
		return AbortedTxn{}, false
	}
	return AbortedTxn{ProducerID: pid, FirstOffset: first, LastOffset: offset}, true
}

// firstUnstable returns the smallest first offset of an open transaction, and false if none is open.
func (ps producerStates) firstUnstable() (int64, bool) {
	first, ok := int64(0), false
	for _, off := range ps.open {
		if !ok || off < first {
			first, ok = off, true
		}
	}
	return first, ok
}

// replay applies a batch found in the log during recovery; marker is the control record's type for a
// control batch. It returns an aborted transaction the batch completes.
func (ps producerStates) replay(h records.Header, marker records.ControlType) (AbortedTxn, bool) {
	if h.Control() {
		if marker == records.ControlAbort || marker == records.ControlCommit {
			return ps.endTxn(h.ProducerID, h.ProducerEpoch, marker == records.ControlCommit, h.BaseOffset, -1)
		}
		return AbortedTxn{}, false
	}
	ps.update(h)
	return AbortedTxn{}, false
}

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
	// TxnFirst is the first offset of the producer's open transaction, if it has one.
	TxnFirst *int64 `json:"txn_first,omitempty"`
	// LastTimestamp and CoordinatorEpoch, absent from older snapshots (then -1).
	LastTimestamp    *int64 `json:"ts,omitempty"`
	CoordinatorEpoch *int32 `json:"ce,omitempty"`
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
	for id, st := range ps.byID {
		sp := snapshotProducer{ID: id, Epoch: st.Epoch, LastTimestamp: &st.LastTimestamp, CoordinatorEpoch: &st.CoordinatorEpoch}
		for _, b := range st.Batches {
			sp.Batches = append(sp.Batches, snapshotBatch{b.FirstSeq, b.LastSeq, b.baseOffset, b.lastOffset})
		}
		if first, ok := ps.open[id]; ok {
			sp.TxnFirst = &first
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
		st := &producerState{Epoch: sp.Epoch, LastTimestamp: -1, CoordinatorEpoch: -1}
		if sp.LastTimestamp != nil {
			st.LastTimestamp = *sp.LastTimestamp
		}
		if sp.CoordinatorEpoch != nil {
			st.CoordinatorEpoch = *sp.CoordinatorEpoch
		}
		for _, b := range sp.Batches {
			st.Batches = append(st.Batches, batchMeta{b.FirstSeq, b.LastSeq, b.BaseOffset, b.LastOffset})
		}
		ps.byID[sp.ID] = st
		if sp.TxnFirst != nil {
			ps.open[sp.ID] = *sp.TxnFirst
		}
	}
	return producerSnapshot{offset: sf.Offset, states: ps}, nil
}

// ProducerInfo is one producer a partition's log has state for, as DescribeProducers reports it.
type ProducerInfo struct {
	ID               int64
	Epoch            int16
	LastSequence     int32 // -1 if the producer has no batch in its current epoch
	LastTimestamp    int64 // -1 if not known
	CoordinatorEpoch int32 // -1 if no marker was written for it here
	TxnStartOffset   int64 // first offset of its open transaction, -1 if none
}

// Producers returns the producers the log has state for, by ID.
func (l *Log) Producers() []ProducerInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	ps := l.mu.producers
	out := make([]ProducerInfo, 0, len(ps.byID))
	for id, st := range ps.byID {
		p := ProducerInfo{ID: id, Epoch: st.Epoch, LastSequence: -1, LastTimestamp: st.LastTimestamp,
			CoordinatorEpoch: st.CoordinatorEpoch, TxnStartOffset: -1}
		if n := len(st.Batches); n > 0 {
			p.LastSequence = st.Batches[n-1].LastSeq
		}
		if first, ok := ps.open[id]; ok {
			p.TxnStartOffset = first
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b ProducerInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
