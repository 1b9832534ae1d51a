package storage

import (
	"fmt"

	"github.com/seichedb/seiche/broker/internal/records"
)

// EnforceRetention deletes whole segments older than retention.ms (by their newest timestamp) or beyond
// retention.bytes (oldest first), and segments entirely below the log start offset, moving the log start
// offset forward. The active segment is rolled first when it has itself expired, as Kafka does. It
// returns the number of segments deleted.
func (l *Log) EnforceRetention() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return 0, ErrClosed
	}
	cfg := l.mu.cfg
	now := l.now().UnixMilli()
	expired := func(s *segment) bool {
		return cfg.Delete && cfg.RetentionMs >= 0 && s.size > 0 && s.maxTs >= 0 && now-s.maxTs > cfg.RetentionMs
	}
	if active := l.mu.segments[len(l.mu.segments)-1]; expired(active) {
		if err := l.rollLocked(); err != nil {
			return 0, err
		}
	}
	var total int64
	for _, s := range l.mu.segments {
		total += s.size
	}
	n := 0
	for len(l.mu.segments) > 1 {
		s, next := l.mu.segments[0], l.mu.segments[1]
		bySize := cfg.Delete && cfg.RetentionBytes >= 0 && total-s.size >= cfg.RetentionBytes
		belowStart := next.base <= l.start.Load()
		if !expired(s) && !bySize && !belowStart {
			break
		}
		if err := l.setStartLocked(next.base); err != nil {
			return n, err
		}
		l.mu.segments = l.mu.segments[1:]
		total -= s.size
		s.drop()
		n++
	}
	if n > 0 {
		syncDir(l.dir)
	}
	return n, nil
}

// DeleteRecordsBefore moves the log start offset to off (DeleteRecords) and deletes the segments
// entirely below it. It returns the new log start offset.
func (l *Log) DeleteRecordsBefore(off int64) (int64, error) {
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	if off > l.end.Load() {
		l.mu.Unlock()
		return 0, ErrOffsetOutOfRange
	}
	err := l.setStartLocked(off)
	l.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if _, err := l.EnforceRetention(); err != nil {
		return 0, err
	}
	return l.start.Load(), nil
}

// MaxTimestamp returns the offset and timestamp of the record with the largest timestamp (ListOffsets
// with timestamp -3), or -1, -1 for an empty log.
func (l *Log) MaxTimestamp() (offset, ts int64) {
	l.mu.Lock()
	var best *segment
	for _, s := range l.mu.segments {
		if s.maxTs >= 0 && (best == nil || s.maxTs >= best.maxTs) {
			best = s
		}
	}
	if best == nil {
		l.mu.Unlock()
		return -1, -1
	}
	best.acquire()
	batchOffset, maxTs, limit := best.maxTsOffset, best.maxTs, best.size
	l.mu.Unlock()
	defer best.release()
	offset = batchOffset
	l.findRecord(best, best.lookup(batchOffset), limit, func(h records.Header) bool { return h.BaseOffset >= batchOffset },
		func(h records.Header, r *records.Record) bool {
			if recordTime(h, r) == maxTs {
				offset = h.BaseOffset + int64(r.OffsetDelta)
				return true
			}
			return false
		})
	return offset, maxTs
}

// OffsetForTimestamp returns the first offset whose record timestamp is at or after ts, and that
// timestamp; ok is false when no record is that new.
func (l *Log) OffsetForTimestamp(ts int64) (offset, found int64, ok bool) {
	l.mu.Lock()
	var segs []*segment
	var limits []int64
	for _, s := range l.mu.segments {
		if s.maxTs >= ts {
			s.acquire()
			segs = append(segs, s)
			limits = append(limits, s.size)
		}
	}
	start := l.start.Load()
	l.mu.Unlock()
	defer func() {
		for _, s := range segs {
			s.release()
		}
	}()
	for i, s := range segs {
		l.findRecord(s, s.lookupTime(ts), limits[i], func(h records.Header) bool { return h.MaxTimestamp >= ts },
			func(h records.Header, r *records.Record) bool {
				off := h.BaseOffset + int64(r.OffsetDelta)
				if t := recordTime(h, r); t >= ts && off >= start {
					offset, found, ok = off, t, true
				}
				return ok
			})
		if ok {
			return offset, found, true
		}
	}
	return -1, -1, false
}

// findRecord decodes the batches of s from pos that pass batchOK and calls fn on each record until it
// returns true.
func (l *Log) findRecord(s *segment, pos, limit int64, batchOK func(records.Header) bool, fn func(records.Header, *records.Record) bool) {
	done := false
	err := l.walk(s, pos, limit, func(h records.Header, p int64) bool {
		if h.Control() || !batchOK(h) {
			return true
		}
		batch := make([]byte, h.Size())
		if _, err := s.f.ReadAt(batch, p); err != nil {
			return false
		}
		_, recs, err := records.Decode(batch)
		if err != nil {
			l.logger.Error("decode stored batch", "segment", s.path(), "pos", p, "err", err)
			return true
		}
		for i := range recs {
			if fn(h, &recs[i]) {
				done = true
				return false
			}
		}
		return true
	})
	if err != nil && !done {
		l.logger.Error("scan segment", "segment", s.path(), "err", fmt.Errorf("find record: %w", err))
	}
}

func recordTime(h records.Header, r *records.Record) int64 {
	if h.LogAppendTime() {
		return h.MaxTimestamp
	}
	return h.FirstTimestamp + r.TimestampDelta
}
