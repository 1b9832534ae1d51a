// Package storage is the broker's partition log: a directory of segment files holding RecordBatch v2
// bytes exactly as produced (with offsets assigned), sparse offset and time indexes, recovery after a
// crash, retention, compaction and the idempotent and transactional producer state: the open
// transactions that bound the last stable offset, the transaction markers the coordinator writes, and
// each segment's aborted-transaction index (<base>.txnindex, as in Kafka).
//
// One Log is safe for concurrent use. Appends are serialised by the log's mutex; reads run concurrently
// with appends and with each other, reading only complete batches. Fsync runs on the log's own flusher
// goroutine, so a producer waiting for durability never holds the lock, and producers that wait at the
// same time share one fsync.
package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seichedb/seiche/broker/internal/records"
)

var (
	ErrClosed               = errors.New("storage: log closed")
	ErrOffsetOutOfRange     = errors.New("storage: offset out of range")
	ErrDuplicateSequence    = errors.New("storage: duplicate sequence number")
	ErrOutOfOrderSequence   = errors.New("storage: out of order sequence number")
	ErrInvalidProducerEpoch = errors.New("storage: invalid producer epoch")
	ErrUnknownProducerID    = errors.New("storage: unknown producer id")
)

// Config is a log's behaviour, taken from its topic's configs.
type Config struct {
	SegmentBytes           int64
	SegmentMs              int64
	RetentionMs            int64 // -1: no time limit
	RetentionBytes         int64 // -1: no size limit
	Delete                 bool  // cleanup.policy includes delete
	Compact                bool  // cleanup.policy includes compact
	MinCleanableDirtyRatio float64
	DeleteRetentionMs      int64
	MinCompactionLagMs     int64
	FlushMessages          int64 // fsync after this many messages; 0: only when asked (acks=all) or by FlushMs
	FlushMs                int64 // fsync at least this often; 0: never on a timer
	IndexIntervalBytes     int
}

func (c Config) withDefaults() Config {
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = 1 << 30
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = 4096
	}
	return c
}

// Options are a log's process-level settings.
type Options struct {
	Logger *slog.Logger
	// Now is the clock for retention, segment age and tombstone horizons; tests replace it.
	Now func() time.Time
}

// AppendResult says where an appended batch landed.
type AppendResult struct {
	BaseOffset     int64
	LastOffset     int64
	LogStartOffset int64
	// Duplicate is set when an idempotent producer resent a batch the log already holds; the offsets
	// are those of the stored batch and nothing was written.
	Duplicate bool
}

// Log is one partition's log.
type Log struct {
	dir    string
	logger *slog.Logger
	now    func() time.Time

	mu struct {
		sync.Mutex
		cfg       Config
		segments  []*segment // sorted by base; the last is the active segment
		producers producerStates
		unflushed int64 // messages since the last fsync
		closed    bool
		failed    error // a write or fsync error: the log takes no more appends
	}

	start atomic.Int64 // log start offset
	end   atomic.Int64 // log end offset (next offset to assign)

	// Durability: the flusher goroutine fsyncs on request and publishes the end offset it covered.
	flush struct {
		sync.Mutex
		durable int64         // every offset below it is on disk
		done    chan struct{} // closed and replaced after each flush
		err     error
	}
	flushReq  chan struct{}
	stop      chan struct{}
	flusherWG sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	cleanMu sync.Mutex // one compaction at a time
}

const startOffsetFile = "log-start-offset"

// Open opens the log in dir, creating it if needed, and recovers it: a torn or corrupt tail of the
// active segment is cut off at the last complete, CRC-valid batch, and the producer state is rebuilt.
func Open(dir string, cfg Config, opts Options) (*Log, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	l := &Log{dir: dir, logger: opts.Logger, now: opts.Now, flushReq: make(chan struct{}, 1), stop: make(chan struct{})}
	l.mu.cfg = cfg.withDefaults()
	l.flush.done = make(chan struct{})
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	l.flush.durable = l.end.Load()
	l.flusherWG.Add(1)
	go l.flusher()
	return l, nil
}

func (l *Log) recover() error {
	bases, err := listSegments(l.dir)
	if err != nil {
		return fmt.Errorf("storage: list segments of %s: %w", l.dir, err)
	}
	start := int64(0)
	if b, err := os.ReadFile(filepath.Join(l.dir, startOffsetFile)); err == nil {
		if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			start = v
		}
	}
	snap, snapErr := readProducerSnapshot(l.dir)
	l.mu.producers = newProducerStates()
	replayFrom := int64(0)
	if snapErr == nil {
		l.mu.producers = snap.states
		replayFrom = snap.offset
	}
	if len(bases) == 0 {
		f, err := os.OpenFile(segmentName(l.dir, start, logSuffix), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		l.mu.segments = []*segment{newSegment(f, l.dir, start)}
		l.start.Store(start)
		l.end.Store(start)
		l.mu.producers = newProducerStates()
		return nil
	}
	interval := l.mu.cfg.IndexIntervalBytes
	// Segments whose indexes were rebuilt by scanning get their aborted-transaction index from the
	// replay of the producer state: entries below the snapshot from the index file (written when the
	// log was closed), the rest from the batches replayed.
	var replay []replayed
	scanned := make(map[*segment]bool)
	full := snapErr != nil
	for i, base := range bases {
		f, err := os.OpenFile(segmentName(l.dir, base, logSuffix), os.O_RDWR, 0o644)
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		s := newSegment(f, l.dir, base)
		l.mu.segments = append(l.mu.segments, s)
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		s.created = st.ModTime()
		active := i == len(bases)-1
		if !active && s.loadIndexes(st.Size()) {
			if s.next > replayFrom {
				full = true // batches after the snapshot that a scan did not visit
			}
			continue
		}
		scanned[s] = true
		valid, err := s.scan(interval, func(h records.Header, batch []byte) {
			if h.BaseOffset >= replayFrom {
				replay = append(replay, replayed{h, controlType(h, batch), s})
			}
		})
		if err != nil {
			return fmt.Errorf("storage: recover %s: %w", f.Name(), err)
		}
		if valid < st.Size() {
			l.logger.Warn("truncating torn or corrupt log tail", "segment", f.Name(), "valid_bytes", valid, "file_bytes", st.Size())
			if err := f.Truncate(valid); err != nil {
				return fmt.Errorf("storage: truncate %s: %w", f.Name(), err)
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("storage: %w", err)
			}
		}
		if s.base < replayFrom {
			b, err := os.ReadFile(segmentName(l.dir, s.base, txnIndexSuffix))
			aborted, ok := decodeTxnIndex(b)
			if err != nil || !ok {
				full = true
			}
			for _, a := range aborted {
				if a.LastOffset < replayFrom {
					s.aborted = append(s.aborted, a)
				}
			}
		}
	}
	last := l.mu.segments[len(l.mu.segments)-1]
	end := last.next
	if end < start {
		end = start
	}
	if first := l.mu.segments[0].base; start < first {
		start = first
	}
	l.start.Store(start)
	l.end.Store(end)
	if full || replayFrom > end {
		// No usable snapshot (first start, the snapshot is ahead of what survived, or an index the
		// snapshot relies on is missing): rebuild the producer state and every aborted-transaction
		// index from every batch header.
		l.mu.producers = newProducerStates()
		replay = replay[:0]
		for _, s := range l.mu.segments {
			s.aborted = nil
			scanned[s] = true
			var ferr error
			err := l.walk(s, 0, s.size, func(h records.Header, pos int64) bool {
				marker := records.ControlUnknown
				if h.Control() {
					if marker, ferr = l.controlAt(s, h, pos); ferr != nil {
						return false
					}
				}
				replay = append(replay, replayed{h, marker, s})
				return true
			})
			if err = errors.Join(err, ferr); err != nil {
				return err
			}
		}
	}
	for _, r := range replay {
		if a, ok := l.mu.producers.replay(r.h, r.marker); ok {
			r.seg.aborted = append(r.seg.aborted, a)
		}
	}
	for _, s := range l.mu.segments[:len(l.mu.segments)-1] {
		if scanned[s] {
			if err := s.writeIndexes(); err != nil {
				return fmt.Errorf("storage: write indexes of %s: %w", s.path(), err)
			}
		}
	}
	return nil
}

// replayed is a batch header that recovery applies to the producer state, with the control record's
// type for a marker and the segment holding it.
type replayed struct {
	h      records.Header
	marker records.ControlType
	seg    *segment
}

// controlType returns the control record type of a control batch, and ControlUnknown for any other.
func controlType(h records.Header, batch []byte) records.ControlType {
	if !h.Control() {
		return records.ControlUnknown
	}
	t, err := records.ParseControl(batch)
	if err != nil {
		return records.ControlUnknown
	}
	return t
}

// controlAt reads the control batch with header h at pos of s and returns its record's type.
func (l *Log) controlAt(s *segment, h records.Header, pos int64) (records.ControlType, error) {
	batch := make([]byte, h.Size())
	if _, err := s.f.ReadAt(batch, pos); err != nil {
		return records.ControlUnknown, fmt.Errorf("storage: read control batch at %d of %s: %w", pos, s.path(), err)
	}
	return controlType(h, batch), nil
}

// walk calls fn with each batch header of s from pos up to limit, until fn returns false.
func (l *Log) walk(s *segment, pos, limit int64, fn func(h records.Header, pos int64) bool) error {
	for pos < limit {
		h, err := s.headerAt(pos, limit)
		if err != nil {
			return err
		}
		if !fn(h, pos) {
			return nil
		}
		pos += int64(h.Size())
	}
	return nil
}

// StartOffset returns the log start offset: the first offset a consumer can read.
func (l *Log) StartOffset() int64 { return l.start.Load() }

// EndOffset returns the log end offset: the offset the next appended record gets.
func (l *Log) EndOffset() int64 { return l.end.Load() }

// SetConfig replaces the log's configuration; it applies to the next append, flush and cleaning.
func (l *Log) SetConfig(cfg Config) {
	l.mu.Lock()
	l.mu.cfg = cfg.withDefaults()
	l.mu.Unlock()
	select {
	case l.flushReq <- struct{}{}: // let the flusher pick up a new flush.ms
	default:
	}
}

// Append assigns offsets to a verified batch and writes it to the active segment, rolling a new segment
// first when the active one is full or old. The batch's base offset is overwritten in place. Append
// does not wait for the data to reach disk; WaitDurable does. Control batches are refused: transaction
// markers are written with AppendMarker.
func (l *Log) Append(batch []byte) (AppendResult, error) {
	h, err := records.ParseHeader(batch)
	if err != nil {
		return AppendResult{}, err
	}
	if h.Control() {
		return AppendResult{}, fmt.Errorf("%w: control batches are written by the broker only", records.ErrCorrupt)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return AppendResult{}, err
	}
	h.BaseOffset = l.end.Load()
	if dup, err := l.mu.producers.check(h); err != nil {
		return AppendResult{}, err
	} else if dup != nil {
		return AppendResult{BaseOffset: dup.baseOffset, LastOffset: dup.lastOffset, LogStartOffset: l.start.Load(), Duplicate: true}, nil
	}
	if err := l.writeLocked(batch, h); err != nil {
		return AppendResult{}, err
	}
	l.mu.producers.update(h)
	return AppendResult{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(), LogStartOffset: l.start.Load()}, nil
}

// AppendMarker writes a transaction marker for the producer: the commit or abort of its open
// transaction in this partition, which moves the last stable offset past the transaction. A marker
// for a producer without an open transaction here is written too (the coordinator writes one to every
// partition of the transaction), and changes nothing else. A marker older than the producer's epoch
// is ErrInvalidProducerEpoch. Like Append, it does not wait for the disk.
func (l *Log) AppendMarker(pid int64, epoch int16, commit bool, coordinatorEpoch int32) (AppendResult, error) {
	batch := records.EncodeMarker(pid, epoch, commit, coordinatorEpoch, l.now().UnixMilli())
	h, err := records.ParseHeader(batch)
	if err != nil {
		return AppendResult{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return AppendResult{}, err
	}
	if err := l.mu.producers.checkMarker(pid, epoch); err != nil {
		return AppendResult{}, err
	}
	h.BaseOffset = l.end.Load()
	if err := l.writeLocked(batch, h); err != nil {
		return AppendResult{}, err
	}
	if a, ok := l.mu.producers.endTxn(pid, epoch, commit, h.BaseOffset, coordinatorEpoch); ok {
		s := l.mu.segments[len(l.mu.segments)-1]
		s.aborted = append(s.aborted, a)
	}
	return AppendResult{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(), LogStartOffset: l.start.Load()}, nil
}

// REQUIRES: l.mu is held.
func (l *Log) writableLocked() error {
	if l.mu.closed {
		return ErrClosed
	}
	return l.mu.failed
}

// writeLocked writes batch, whose header h has its base offset assigned (the log end offset), to the
// active segment, rolling first if needed. REQUIRES: l.mu is held.
func (l *Log) writeLocked(batch []byte, h records.Header) error {
	if err := l.maybeRollLocked(int64(len(batch))); err != nil {
		return err
	}
	records.SetBaseOffset(batch, h.BaseOffset)
	s := l.mu.segments[len(l.mu.segments)-1]
	pos := s.size
	if _, err := s.f.WriteAt(batch, pos); err != nil {
		// The file may now hold a partial batch past s.size; the next append overwrites it, and
		// recovery would cut it off. Stop taking appends: the disk is failing.
		l.mu.failed = fmt.Errorf("storage: write %s: %w", s.path(), err)
		return l.mu.failed
	}
	s.track(h, pos, l.mu.cfg.IndexIntervalBytes)
	s.unsynced = true
	l.end.Store(h.LastOffset() + 1)
	l.mu.unflushed += int64(h.NumRecords)
	if fm := l.mu.cfg.FlushMessages; fm > 0 && l.mu.unflushed >= fm {
		l.requestFlush()
	}
	return nil
}

// LastStableOffset returns the offset below which every transaction is decided: the first offset of
// the oldest open transaction, or the end offset when none is open. read_committed consumers read up
// to it. It never moves backwards: a transaction opens at the end offset, which is at or past it.
func (l *Log) LastStableOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastStableLocked()
}

// REQUIRES: l.mu is held.
func (l *Log) lastStableLocked() int64 {
	if first, ok := l.mu.producers.firstUnstable(); ok {
		return max(first, l.start.Load())
	}
	return l.end.Load()
}

// AbortedTransactions returns the aborted transactions that overlap the offsets [from, to): those
// whose abort marker is at or after from and whose first batch is before to, in marker order. A
// read_committed Fetch sends them with the data so the client can drop the aborted batches.
func (l *Log) AbortedTransactions(from, to int64) []AbortedTxn {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []AbortedTxn
	for _, s := range l.mu.segments[l.segmentForLocked(from):] {
		for _, a := range s.aborted {
			if a.LastOffset >= from && a.FirstOffset < to {
				out = append(out, a)
			}
		}
	}
	return out
}

// maybeRollLocked starts a new active segment when the current one cannot take n more bytes or has
// been open longer than segment.ms. REQUIRES: l.mu is held.
func (l *Log) maybeRollLocked(n int64) error {
	s := l.mu.segments[len(l.mu.segments)-1]
	if s.size == 0 {
		return nil
	}
	full := s.size+n > l.mu.cfg.SegmentBytes || s.size+n > 1<<31-1
	old := l.mu.cfg.SegmentMs > 0 && l.now().Sub(s.created) >= time.Duration(l.mu.cfg.SegmentMs)*time.Millisecond
	if !full && !old {
		return nil
	}
	return l.rollLocked()
}

// rollLocked seals the active segment and opens a new one at the log end offset.
// REQUIRES: l.mu is held.
func (l *Log) rollLocked() error {
	s := l.mu.segments[len(l.mu.segments)-1]
	end := l.end.Load()
	f, err := os.OpenFile(segmentName(l.dir, end, logSuffix), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("storage: roll segment: %w", err)
	}
	if err := s.writeIndexes(); err != nil {
		f.Close()
		return fmt.Errorf("storage: write indexes: %w", err)
	}
	l.mu.segments = append(l.mu.segments, newSegment(f, l.dir, end))
	// The sealed segment's data is fsynced by the flusher (it is still marked unsynced); the producer
	// snapshot lets recovery skip replaying sealed segments.
	if err := writeProducerSnapshot(l.dir, end, &l.mu.producers); err != nil {
		l.logger.Warn("write producer snapshot", "err", err)
	}
	syncDir(l.dir)
	return nil
}

// Read returns whole batches starting with the one that holds offset, up to maxBytes (at least one batch
// whatever its size, as Kafka does since KIP-74), and never a batch at or past maxOffset. Reading at the end
// offset returns no data; an offset before the start or after the end is ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64) ([]byte, error) {
	return l.ReadWith(offset, maxBytes, maxOffset, nil)
}

// ReadWith is Read reading into buffers from alloc, which must return a slice of length n (a nil alloc
// allocates). The result is a prefix of the last buffer alloc returned; the caller owns every buffer
// alloc returned, whether or not it holds the result, and may reuse them all once it is done with the
// result. Read asks for no more than the bytes it needs, give or take one small batch.
func (l *Log) ReadWith(offset int64, maxBytes int, maxOffset int64, alloc func(n int) []byte) ([]byte, error) {
	if alloc == nil {
		alloc = func(n int) []byte { return make([]byte, n) }
	}
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	if offset < l.start.Load() || offset > l.end.Load() {
		l.mu.Unlock()
		return nil, ErrOffsetOutOfRange
	}
	if offset == l.end.Load() || offset >= maxOffset {
		l.mu.Unlock()
		return nil, nil
	}
	l.mu.Unlock()

	// Find the first batch whose last offset reaches offset (compaction can leave gaps, so it may be in
	// a later segment), then read whole batches from there. The segment list is looked up afresh for
	// each segment, as a compaction swap may replace segments meanwhile.
	prevBase := int64(-1)
	for {
		l.mu.Lock()
		if l.mu.closed {
			l.mu.Unlock()
			return nil, ErrClosed
		}
		var s *segment
		if prevBase < 0 {
			s = l.mu.segments[l.segmentForLocked(offset)]
		} else if i := l.segmentForLocked(prevBase) + 1; i < len(l.mu.segments) {
			s = l.mu.segments[i]
		}
		if s == nil {
			l.mu.Unlock()
			return nil, nil
		}
		s.acquire()
		pos, limit := int64(0), s.size
		if s.base <= offset {
			pos = s.lookup(offset)
		}
		// The index only grows by appending, so this slice of it stays valid without the lock.
		idx, span := s.index, s.unindexedSpan
		l.mu.Unlock()
		prevBase = s.base
		startPos := int64(-1)
		err := l.walk(s, pos, limit, func(h records.Header, pos int64) bool {
			if h.LastOffset() >= offset {
				startPos = pos
				return false
			}
			return true
		})
		if err == nil && startPos >= 0 {
			end := readEnd(idx, span, startPos, limit, maxBytes)
			data, err := readBatches(s, startPos, end, limit, maxOffset, alloc)
			s.release()
			return data, err
		}
		s.release()
		if err != nil {
			return nil, err
		}
	}
}

// readBatches reads the complete batches of s between the batch boundary pos and end: at least one
// (read whole, past end, if it is larger), none whose base offset is at or past limitOffset. limit is the
// size of the segment's complete batches.
func readBatches(s *segment, pos, end, limit int64, limitOffset int64, alloc func(int) []byte) ([]byte, error) {
	want := end - pos
	if want < records.HeaderSize {
		want = min(records.HeaderSize, limit-pos)
	}
	buf := alloc(int(want))
	got, err := s.f.ReadAt(buf, pos)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("storage: read %s: %w", s.path(), err)
	}
	buf = buf[:got]
	n := 0
	for n+records.LogOverhead <= len(buf) {
		base := int64(binary.BigEndian.Uint64(buf[n:]))
		size := records.LogOverhead + int(int32(binary.BigEndian.Uint32(buf[n+8:])))
		if base >= limitOffset || size < records.HeaderSize {
			break
		}
		if n+size > len(buf) {
			if n == 0 {
				// The first batch is larger than the read: return it whole.
				big := alloc(size)
				if _, err := s.f.ReadAt(big, pos); err != nil {
					return nil, fmt.Errorf("storage: read %s: %w", s.path(), err)
				}
				return big, nil
			}
			break
		}
		n += size
	}
	return buf[:n], nil
}

// segmentForLocked returns the index of the segment holding offset. REQUIRES: l.mu is held.
func (l *Log) segmentForLocked(offset int64) int {
	segs := l.mu.segments
	lo, hi := 0, len(segs)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if segs[mid].base <= offset {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// WaitDurable blocks until every offset up to and including last is fsynced, or ctx is done.
func (l *Log) WaitDurable(ctx context.Context, last int64) error {
	for {
		l.flush.Lock()
		if l.flush.err != nil {
			err := l.flush.err
			l.flush.Unlock()
			return err
		}
		if l.flush.durable > last {
			l.flush.Unlock()
			return nil
		}
		done := l.flush.done
		l.flush.Unlock()
		l.requestFlush()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.stop:
			return ErrClosed
		}
	}
}

// RequestFlush asks the flusher to fsync everything appended so far, without waiting for it. A producer
// that will wait for durability calls it as soon as its batches are appended, so that the fsync starts
// before the wait does; WaitDurable asks again if it must.
func (l *Log) RequestFlush() { l.requestFlush() }

func (l *Log) requestFlush() {
	select {
	case l.flushReq <- struct{}{}:
	default:
	}
}

// flusher fsyncs the log when asked, and every flush.ms if set. Requests that arrive during an fsync
// are served together by the next one: that is the group commit.
func (l *Log) flusher() {
	defer l.flusherWG.Done()
	var tick <-chan time.Time
	var ticker *time.Ticker
	setTicker := func() {
		l.mu.Lock()
		ms := l.mu.cfg.FlushMs
		l.mu.Unlock()
		if ticker != nil {
			ticker.Stop()
			ticker, tick = nil, nil
		}
		if ms > 0 {
			ticker = time.NewTicker(time.Duration(ms) * time.Millisecond)
			tick = ticker.C
		}
	}
	setTicker()
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for {
		select {
		case <-l.stop:
			return
		case <-l.flushReq:
			l.sync()
			setTicker()
		case <-tick:
			l.sync()
		}
	}
}

// sync fsyncs every segment written since the last sync and publishes the covered end offset.
func (l *Log) sync() error {
	l.mu.Lock()
	end := l.end.Load()
	var buf [2]*segment // the active segment, and the one before it just after a roll
	dirty := buf[:0]
	for _, s := range l.mu.segments {
		if s.unsynced {
			s.unsynced = false
			s.acquire()
			dirty = append(dirty, s)
		}
	}
	l.mu.unflushed = 0
	l.mu.Unlock()
	var err error
	for _, s := range dirty {
		if e := s.f.Sync(); e != nil && err == nil && !s.deleted.Load() {
			err = fmt.Errorf("storage: fsync %s: %w", s.path(), e)
		}
		s.release()
	}
	l.flush.Lock()
	if err != nil {
		l.flush.err = err
		l.mu.Lock()
		l.mu.failed = err
		l.mu.Unlock()
		l.logger.Error("fsync failed; the log takes no more appends", "dir", l.dir, "err", err)
	} else if end > l.flush.durable {
		l.flush.durable = end
	}
	close(l.flush.done)
	l.flush.done = make(chan struct{})
	l.flush.Unlock()
	return err
}

// Flush fsyncs everything appended so far.
func (l *Log) Flush() error {
	l.mu.Lock()
	closed := l.mu.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return l.sync()
}

// Close flushes the log, writes the producer state snapshot and closes every file. Calls after the
// first return the first call's result.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		close(l.stop)
		l.flusherWG.Wait()
		err := l.sync()
		l.mu.Lock()
		l.mu.closed = true
		if err == nil && len(l.mu.segments) > 0 {
			// The active segment's aborted transactions up to the snapshot, which recovery takes
			// from here instead of replaying the whole segment.
			active := l.mu.segments[len(l.mu.segments)-1]
			err = writeFileSync(segmentName(l.dir, active.base, txnIndexSuffix), encodeTxnIndex(active.aborted))
		}
		if err == nil {
			err = writeProducerSnapshot(l.dir, l.end.Load(), &l.mu.producers)
		}
		l.mu.Unlock()
		l.closeErr = errors.Join(err, l.closeFiles())
	})
	return l.closeErr
}

func (l *Log) closeFiles() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.mu.segments {
		s.release()
	}
	l.mu.segments = nil
	return nil
}

// Remove closes the log and deletes its directory.
func (l *Log) Remove() error {
	l.Close()
	return os.RemoveAll(l.dir)
}

// setStartLocked moves the log start offset forward and persists it. REQUIRES: l.mu is held.
func (l *Log) setStartLocked(off int64) error {
	if off <= l.start.Load() {
		return nil
	}
	if err := writeFileSync(filepath.Join(l.dir, startOffsetFile), []byte(strconv.FormatInt(off, 10))); err != nil {
		return fmt.Errorf("storage: persist log start offset: %w", err)
	}
	l.start.Store(off)
	return nil
}
