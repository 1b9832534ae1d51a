package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/seichedb/seiche/broker/internal/records"
)

// File name suffixes inside a partition directory. A segment is named by its base offset, zero-padded
// to 20 digits as in Kafka, so that names sort in offset order.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	txnIndexSuffix  = ".txnindex" // the segment's aborted transactions, as in Kafka
	cleanedSuffix   = ".cleaned"  // compaction output being written; deleted on recovery
	swapSuffix      = ".swap"     // compaction output complete and fsynced; replaces its sources on recovery
)

func segmentName(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// indexEntry maps an offset (the base offset of a batch) to the batch's byte position in the segment.
type indexEntry struct {
	offset int64
	pos    int64
}

// timeEntry records that the batches up to and including the one starting at offset have timestamps
// up to ts; entries are added only when the maximum grows, as in Kafka's time index.
type timeEntry struct {
	ts     int64
	offset int64
}

// segment is one file of the log. Its fields are guarded by Log.mu, except the file, which is only
// written under Log.mu and read by any goroutine holding a reference.
type segment struct {
	base int64
	dir  string
	f    *os.File // named segmentName(dir, base, logSuffix), except briefly while a cleaned copy is swapped in

	size        int64 // bytes of complete batches
	next        int64 // offset after the last batch; base for an empty segment
	index       []indexEntry
	tindex      []timeEntry
	maxTs       int64 // largest batch max timestamp, -1 if none
	maxTsOffset int64 // base offset of the batch holding maxTs
	created     time.Time
	sinceIndex  int // bytes appended since the last index entry
	// unindexedSpan bounds how far past an index entry a batch without an entry of its own may start:
	// every batch start lies at most this many bytes after the last index entry at or before it. A read
	// uses it to find the last whole batch within its byte limit without reading past it. -1: unknown
	// (indexes loaded from disk).
	unindexedSpan int64
	unsynced      bool // appended to since the last fsync
	// aborted are the transactions aborted by markers in this segment, in marker order: the
	// aborted-transaction index, persisted with the other indexes when the segment is sealed and
	// rebuilt from the log when it is recovered.
	aborted []AbortedTxn

	refs    atomic.Int32 // one for the log's list, one per reader
	deleted atomic.Bool  // unlink the file when the last reference goes
}

func newSegment(f *os.File, dir string, base int64) *segment {
	s := &segment{base: base, dir: dir, f: f, next: base, maxTs: -1, maxTsOffset: -1, created: time.Now()}
	s.refs.Store(1)
	return s
}

// acquire takes a reader's reference. REQUIRES: Log.mu is held (so the segment is still in the list).
func (s *segment) acquire() { s.refs.Add(1) }

// release drops a reference; the last one closes the file, and removes it if the segment was deleted.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.f.Close()
		if s.deleted.Load() {
			os.Remove(s.path())
		}
	}
}

// drop removes a segment that has left the log's list: its index files now, its data once no reader
// holds it.
func (s *segment) drop() {
	os.Remove(segmentName(s.dir, s.base, indexSuffix))
	os.Remove(segmentName(s.dir, s.base, timeIndexSuffix))
	os.Remove(segmentName(s.dir, s.base, txnIndexSuffix))
	s.deleted.Store(true)
	s.release()
}

func (s *segment) path() string { return segmentName(s.dir, s.base, logSuffix) }

// track updates the segment's in-memory indexes for a batch just written at pos.
func (s *segment) track(h records.Header, pos int64, indexInterval int) {
	if len(s.index) == 0 || s.sinceIndex >= indexInterval {
		s.index = append(s.index, indexEntry{h.BaseOffset, pos})
		s.sinceIndex = 0
	} else if s.unindexedSpan >= 0 {
		s.unindexedSpan = max(s.unindexedSpan, pos-s.index[len(s.index)-1].pos)
	}
	s.sinceIndex += h.Size()
	if h.MaxTimestamp > s.maxTs {
		s.maxTs, s.maxTsOffset = h.MaxTimestamp, h.BaseOffset
		s.tindex = append(s.tindex, timeEntry{h.MaxTimestamp, h.BaseOffset})
	}
	s.size = pos + int64(h.Size())
	s.next = h.LastOffset() + 1
}

// lookup returns the position to start scanning from for offset: that of the last indexed batch at or
// before it.
func (s *segment) lookup(offset int64) int64 {
	i := sort.Search(len(s.index), func(i int) bool { return s.index[i].offset > offset })
	if i == 0 {
		return 0
	}
	return s.index[i-1].pos
}

// readEnd returns where a read of whole batches starting at the batch boundary start, limited to
// maxBytes and to the segment's first limit bytes, can stop reading: the last batch boundary within the
// limits lies at or before it, so the bytes after it would only be a partial batch. idx and span are the
// segment's index and unindexedSpan, taken under Log.mu.
func readEnd(idx []indexEntry, span, start, limit int64, maxBytes int) int64 {
	end := min(limit, start+int64(maxBytes))
	if end == limit || span < 0 {
		return end
	}
	i := sort.Search(len(idx), func(i int) bool { return idx[i].pos > end }) - 1
	if i < 0 {
		return end
	}
	return min(end, idx[i].pos+span)
}

// lookupTime returns the position to start scanning from for the first batch with a timestamp >= ts.
func (s *segment) lookupTime(ts int64) int64 {
	i := sort.Search(len(s.tindex), func(i int) bool { return s.tindex[i].ts >= ts })
	if i == 0 {
		return 0
	}
	return s.lookup(s.tindex[i-1].offset)
}

// headerAt reads the batch header at pos. io.EOF means pos is the end of the segment.
func (s *segment) headerAt(pos, limit int64) (records.Header, error) {
	if pos >= limit {
		return records.Header{}, io.EOF
	}
	var buf [records.HeaderSize]byte
	if _, err := s.f.ReadAt(buf[:], pos); err != nil {
		return records.Header{}, fmt.Errorf("storage: read batch header at %d of %s: %w", pos, s.path(), err)
	}
	h, err := records.ParseHeader(buf[:])
	if err != nil {
		return h, fmt.Errorf("storage: batch header at %d of %s: %w", pos, s.path(), err)
	}
	return h, nil
}

// writeIndexes persists the segment's indexes beside it, for a segment that will not change again.
func (s *segment) writeIndexes() error {
	dir := s.dir
	var ib, tb []byte
	for _, e := range s.index {
		ib = binary.BigEndian.AppendUint32(ib, uint32(e.offset-s.base))
		ib = binary.BigEndian.AppendUint32(ib, uint32(e.pos))
	}
	for _, e := range s.tindex {
		tb = binary.BigEndian.AppendUint64(tb, uint64(e.ts))
		tb = binary.BigEndian.AppendUint32(tb, uint32(e.offset-s.base))
	}
	if err := writeFileSync(segmentName(dir, s.base, indexSuffix), ib); err != nil {
		return err
	}
	if err := writeFileSync(segmentName(dir, s.base, timeIndexSuffix), tb); err != nil {
		return err
	}
	return writeFileSync(segmentName(dir, s.base, txnIndexSuffix), encodeTxnIndex(s.aborted))
}

// txnEntrySize is the size of one aborted-transaction index entry: producer ID, first offset, last
// offset, each 8 bytes big endian.
const txnEntrySize = 24

func encodeTxnIndex(aborted []AbortedTxn) []byte {
	b := make([]byte, 0, len(aborted)*txnEntrySize)
	for _, a := range aborted {
		b = binary.BigEndian.AppendUint64(b, uint64(a.ProducerID))
		b = binary.BigEndian.AppendUint64(b, uint64(a.FirstOffset))
		b = binary.BigEndian.AppendUint64(b, uint64(a.LastOffset))
	}
	return b
}

func decodeTxnIndex(b []byte) ([]AbortedTxn, bool) {
	if len(b)%txnEntrySize != 0 {
		return nil, false
	}
	out := make([]AbortedTxn, 0, len(b)/txnEntrySize)
	for i := 0; i < len(b); i += txnEntrySize {
		out = append(out, AbortedTxn{
			ProducerID:  int64(binary.BigEndian.Uint64(b[i:])),
			FirstOffset: int64(binary.BigEndian.Uint64(b[i+8:])),
			LastOffset:  int64(binary.BigEndian.Uint64(b[i+16:])),
		})
	}
	return out, true
}

// loadIndexes reads a sealed segment's index files. It reports false when they are missing or do not
// fit the segment, in which case the segment must be scanned.
func (s *segment) loadIndexes(size int64) bool {
	dir := s.dir
	ib, err1 := os.ReadFile(segmentName(dir, s.base, indexSuffix))
	tb, err2 := os.ReadFile(segmentName(dir, s.base, timeIndexSuffix))
	xb, err3 := os.ReadFile(segmentName(dir, s.base, txnIndexSuffix))
	if err1 != nil || err2 != nil || err3 != nil || len(ib)%8 != 0 || len(tb)%12 != 0 || (size > 0 && len(ib) == 0) {
		return false
	}
	aborted, ok := decodeTxnIndex(xb)
	if !ok {
		return false
	}
	s.aborted = aborted
	s.index, s.unindexedSpan = s.index[:0], -1
	for i := 0; i < len(ib); i += 8 {
		e := indexEntry{s.base + int64(binary.BigEndian.Uint32(ib[i:])), int64(binary.BigEndian.Uint32(ib[i+4:]))}
		if e.pos >= size || (len(s.index) > 0 && (e.offset <= s.index[len(s.index)-1].offset || e.pos <= s.index[len(s.index)-1].pos)) {
			return false
		}
		s.index = append(s.index, e)
	}
	s.tindex = s.tindex[:0]
	for i := 0; i < len(tb); i += 12 {
		s.tindex = append(s.tindex, timeEntry{int64(binary.BigEndian.Uint64(tb[i:])), s.base + int64(binary.BigEndian.Uint32(tb[i+8:]))})
	}
	// The end offset is that of the last batch, found by walking headers from the last index entry.
	s.size = size
	pos := int64(0)
	if len(s.index) > 0 {
		pos = s.index[len(s.index)-1].pos
	}
	for pos < size {
		h, err := s.headerAt(pos, size)
		if err != nil || pos+int64(h.Size()) > size {
			return false
		}
		s.next = h.LastOffset() + 1
		pos += int64(h.Size())
	}
	if len(s.tindex) > 0 {
		last := s.tindex[len(s.tindex)-1]
		s.maxTs, s.maxTsOffset = last.ts, last.offset
	}
	return true
}

// scan reads every batch of the segment, verifying each one's CRC, and rebuilds the in-memory indexes.
// It stops at the first batch that is incomplete or corrupt and returns the size of the valid prefix;
// the caller truncates the file there. Each valid batch is passed to visit, which must not keep it.
func (s *segment) scan(indexInterval int, visit func(h records.Header, batch []byte)) (valid int64, err error) {
	st, err := s.f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	s.index, s.tindex, s.maxTs, s.maxTsOffset, s.sinceIndex, s.next, s.size = nil, nil, -1, -1, 0, s.base, 0
	s.unindexedSpan = 0
	r := io.NewSectionReader(s.f, 0, size)
	buf := make([]byte, 0, 1<<20)
	var pos int64
	for pos < size {
		if size-pos < records.HeaderSize {
			break
		}
		hdr := buf[:records.HeaderSize]
		if _, err := r.ReadAt(hdr, pos); err != nil {
			return pos, err
		}
		h, err := records.ParseHeader(hdr)
		if err != nil || pos+int64(h.Size()) > size || h.BaseOffset < s.next {
			break
		}
		if cap(buf) < h.Size() {
			buf = make([]byte, 0, h.Size())
		}
		batch := buf[:h.Size()]
		if _, err := r.ReadAt(batch, pos); err != nil {
			return pos, err
		}
		if _, err := records.Verify(batch); err != nil {
			break
		}
		s.track(h, pos, indexInterval)
		if visit != nil {
			visit(h, batch)
		}
		pos += int64(h.Size())
	}
	return pos, nil
}

// listSegments returns the base offsets of the segment files in dir, sorted, after finishing or undoing
// an interrupted compaction swap.
func listSegments(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var bases, swaps []int64
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, cleanedSuffix) || strings.HasSuffix(name, ".tmp"):
			os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, swapSuffix):
			if b, err := strconv.ParseInt(strings.TrimSuffix(name, swapSuffix), 10, 64); err == nil {
				swaps = append(swaps, b)
			}
		case strings.HasSuffix(name, logSuffix):
			if b, err := strconv.ParseInt(strings.TrimSuffix(name, logSuffix), 10, 64); err == nil {
				bases = append(bases, b)
			}
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	// A .swap file is a cleaned replacement for the segments from its base up to (not including) the
	// segment after its last offset. It is complete and fsynced; finish the swap.
	for _, sb := range swaps {
		last, err := lastOffsetOf(segmentName(dir, sb, swapSuffix))
		if err != nil {
			return nil, err
		}
		kept := bases[:0]
		for _, b := range bases {
			if b >= sb && b <= last {
				os.Remove(segmentName(dir, b, logSuffix))
				os.Remove(segmentName(dir, b, indexSuffix))
				os.Remove(segmentName(dir, b, timeIndexSuffix))
				os.Remove(segmentName(dir, b, txnIndexSuffix))
				continue
			}
			kept = append(kept, b)
		}
		bases = kept
		if err := os.Rename(segmentName(dir, sb, swapSuffix), segmentName(dir, sb, logSuffix)); err != nil {
			return nil, err
		}
		bases = append(bases, sb)
		sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	}
	return bases, nil
}

// lastOffsetOf walks a complete segment file's batch headers and returns its last offset.
func lastOffsetOf(name string) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	s := &segment{f: f}
	last := int64(-1)
	for pos := int64(0); pos < st.Size(); {
		h, err := s.headerAt(pos, st.Size())
		if err != nil {
			return 0, err
		}
		last = h.LastOffset()
		pos += int64(h.Size())
	}
	return last, nil
}

// writeFileSync writes a small file atomically: to a temporary name, fsynced, then renamed.
func writeFileSync(name string, data []byte) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
