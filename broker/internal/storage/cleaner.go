package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/seichedb/seiche/broker/internal/records"
)

// Compaction keeps the latest record of every key. It works on sealed segments only (never the active
// one), so appends and reads go on while it runs: it reads the sealed segments, writes cleaned copies
// beside them, and swaps each copy in under the log's lock. Offsets never change; batches keep their
// base offsets and records their offset deltas. Tombstones (null values) are kept for
// delete.retention.ms after the cleaner first passes over them, recorded in the batch as Kafka's delete
// horizon (KIP-534), so a consumer that reads the log from the start within that time sees the delete.
//
// Transactions (Kafka's LogCleaner rules): nothing at or past the last stable offset is cleaned, so an
// undecided transaction is never touched; the batches of aborted transactions are removed; a commit or
// abort marker is kept while any batch of its transaction remains, then for delete.retention.ms more
// (recorded as the marker batch's delete horizon, like a tombstone's), so a consumer reading within
// that time still sees the transaction end. The aborted-transaction index keeps the entries whose
// markers remain.

// CleanStats describes one cleaning pass.
type CleanStats struct {
	SegmentsCleaned int
	BytesBefore     int64
	BytesAfter      int64
	RecordsRemoved  int64
}

const cleanerOffsetFile = "cleaner-checkpoint"

type groupStats struct {
	CleanStats
	horizon int64 // earliest delete horizon of the tombstones kept
}

// Clean compacts the log's sealed segments when the dirty part (written since the last cleaning) is at
// least min.cleanable.dirty.ratio of them. Segments newer than min.compaction.lag.ms are left alone.
func (l *Log) Clean() (CleanStats, error) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	var st CleanStats

	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return st, ErrClosed
	}
	cfg := l.mu.cfg
	now := l.now()
	cleanedTo, horizonDue := l.cleanerCheckpoint()
	stable := l.lastStableLocked()
	tc := txnCleaning{aborted: make(map[int64][]AbortedTxn), kept: make(map[int64]bool), droppedMarkers: make(map[int64]bool)}
	for _, s := range l.mu.segments {
		for _, a := range s.aborted {
			tc.aborted[a.ProducerID] = append(tc.aborted[a.ProducerID], a)
		}
	}
	var segs []*segment
	var dirty, total int64
	for _, s := range l.mu.segments[:len(l.mu.segments)-1] {
		if cfg.MinCompactionLagMs > 0 && s.maxTs >= 0 && now.UnixMilli()-s.maxTs < cfg.MinCompactionLagMs {
			break
		}
		if s.next > stable {
			break // holds an undecided transaction's data, or comes after it
		}
		segs = append(segs, s)
		total += s.size
		if s.next > cleanedTo {
			dirty += s.size
		}
	}
	// A log is cleaned when enough of it is dirty, or when tombstones it keeps have reached their delete
	// horizon and can go (KIP-534).
	tombstonesDue := horizonDue > 0 && now.UnixMilli() >= horizonDue
	if !tombstonesDue && (dirty == 0 || float64(dirty) < cfg.MinCleanableDirtyRatio*float64(total)) {
		l.mu.Unlock()
		return st, nil
	}
	limits := make([]int64, len(segs))
	for i, s := range segs {
		s.acquire()
		limits[i] = s.size
	}
	l.mu.Unlock()
	defer func() {
		for _, s := range segs {
			s.release()
		}
	}()

	// Pass 1: the offset of the latest record of every key in the dirty segments.
	latest := make(map[string]int64)
	for i, s := range segs {
		if s.next <= cleanedTo {
			continue
		}
		err := l.eachBatch(s, limits[i], func(h records.Header, batch []byte) error {
			if h.Control() || tc.abortedData(h) {
				return nil
			}
			_, recs, err := records.Decode(batch)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.Key != nil {
					latest[string(r.Key)] = h.BaseOffset + int64(r.OffsetDelta)
				}
			}
			return nil
		})
		if err != nil {
			return st, err
		}
	}

	// Pass 2: rewrite groups of consecutive segments that fit in one segment.
	var nextHorizon int64
	for i := 0; i < len(segs); {
		j, size := i, int64(0)
		for j < len(segs) && (j == i || size+limits[j] <= cfg.SegmentBytes) {
			size += limits[j]
			j++
		}
		gs, err := l.cleanGroup(segs[i:j], limits[i:j], latest, &tc, cfg, now)
		if err != nil {
			return st, err
		}
		st.SegmentsCleaned += gs.SegmentsCleaned
		st.BytesBefore += gs.BytesBefore
		st.BytesAfter += gs.BytesAfter
		st.RecordsRemoved += gs.RecordsRemoved
		if gs.horizon > 0 && (nextHorizon == 0 || gs.horizon < nextHorizon) {
			nextHorizon = gs.horizon
		}
		i = j
	}
	end := segs[len(segs)-1].next
	if err := writeFileSync(filepath.Join(l.dir, cleanerOffsetFile), fmt.Appendf(nil, "%d %d", end, nextHorizon)); err != nil {
		return st, fmt.Errorf("storage: persist cleaner offset: %w", err)
	}
	return st, nil
}

// cleanerCheckpoint returns the offset the last cleaning reached and the earliest delete horizon of the
// tombstones it kept (0 if none).
func (l *Log) cleanerCheckpoint() (cleanedTo, horizon int64) {
	b, err := os.ReadFile(filepath.Join(l.dir, cleanerOffsetFile))
	if err != nil {
		return 0, 0
	}
	fmt.Sscanf(string(b), "%d %d", &cleanedTo, &horizon)
	return cleanedTo, horizon
}

// eachBatch reads every batch of s up to limit.
func (l *Log) eachBatch(s *segment, limit int64, fn func(h records.Header, batch []byte) error) error {
	var buf []byte
	var ferr error
	err := l.walk(s, 0, limit, func(h records.Header, pos int64) bool {
		if cap(buf) < h.Size() {
			buf = make([]byte, h.Size())
		}
		batch := buf[:h.Size()]
		if _, err := s.f.ReadAt(batch, pos); err != nil {
			ferr = err
			return false
		}
		if ferr = fn(h, batch); ferr != nil {
			return false
		}
		return true
	})
	if ferr != nil {
		return fmt.Errorf("storage: clean %s: %w", s.path(), ferr)
	}
	return err
}

// cleanGroup writes the cleaned copy of segs as one segment and swaps it in.
func (l *Log) cleanGroup(segs []*segment, limits []int64, latest map[string]int64, tc *txnCleaning, cfg Config, now time.Time) (groupStats, error) {
	var st groupStats
	base := segs[0].base
	name := segmentName(l.dir, base, cleanedSuffix)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return st, fmt.Errorf("storage: %w", err)
	}
	out := newSegment(f, l.dir, base)
	fail := func(err error) (groupStats, error) {
		f.Close()
		os.Remove(name)
		return st, err
	}
	horizon := now.UnixMilli() + cfg.DeleteRetentionMs
	var pos int64
	var scratch []byte
	for i, s := range segs {
		st.BytesBefore += limits[i]
		st.SegmentsCleaned++
		err := l.eachBatch(s, limits[i], func(h records.Header, batch []byte) error {
			data := batch
			if h.Control() {
				keep, due, err := tc.marker(h, batch, horizon, now, &scratch)
				if err != nil {
					return err
				}
				if !keep {
					st.RecordsRemoved += int64(h.NumRecords)
					return nil
				}
				if due > 0 && (st.horizon == 0 || due < st.horizon) {
					st.horizon = due
				}
				if due == horizon && !h.HasDeleteHorizon() {
					data = scratch
				}
			} else if tc.abortedData(h) {
				st.RecordsRemoved += int64(h.NumRecords)
				return nil
			} else {
				_, recs, err := records.Decode(batch)
				if err != nil {
					return err
				}
				kept := recs[:0]
				tombstones := false
				for _, r := range recs {
					off := h.BaseOffset + int64(r.OffsetDelta)
					if r.Key != nil {
						if last, ok := latest[string(r.Key)]; ok && last > off {
							continue
						}
					}
					if r.Value == nil {
						if h.HasDeleteHorizon() && now.UnixMilli() >= h.FirstTimestamp {
							continue
						}
						tombstones = true
					}
					kept = append(kept, r)
				}
				st.RecordsRemoved += int64(len(recs) - len(kept))
				setHorizon := tombstones && !h.HasDeleteHorizon()
				if tombstones {
					bh := horizon
					if !setHorizon {
						bh = h.FirstTimestamp
					}
					if st.horizon == 0 || bh < st.horizon {
						st.horizon = bh
					}
				}
				if len(kept) > 0 && h.Transactional() {
					tc.kept[h.ProducerID] = true
				}
				switch {
				case len(kept) == 0:
					return nil
				case len(kept) < len(recs) || setHorizon:
					nh := h
					if setHorizon {
						for k := range kept {
							kept[k].TimestampDelta = h.FirstTimestamp + kept[k].TimestampDelta - horizon
						}
						nh.FirstTimestamp = horizon
						nh.Attributes |= 0x40
					}
					if scratch, err = records.Encode(scratch[:0], nh, kept, h.Codec()); err != nil {
						return err
					}
					data = scratch
				}
			}
			if _, err := f.WriteAt(data, pos); err != nil {
				return err
			}
			nh, _ := records.ParseHeader(data)
			out.track(nh, pos, cfg.IndexIntervalBytes)
			pos += int64(len(data))
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	st.BytesAfter = pos
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("storage: fsync %s: %w", name, err))
	}
	swap := segmentName(l.dir, base, swapSuffix)
	if err := os.Rename(name, swap); err != nil {
		return fail(err)
	}
	syncDir(l.dir)

	l.mu.Lock()
	defer l.mu.Unlock()
	idx := -1
	for k, s := range l.mu.segments {
		if s == segs[0] {
			idx = k
			break
		}
	}
	if l.mu.closed || idx < 0 || idx+len(segs) > len(l.mu.segments)-1 || l.mu.segments[idx+len(segs)-1] != segs[len(segs)-1] {
		// Retention or a close removed segments meanwhile; drop this copy.
		f.Close()
		os.Remove(swap)
		return groupStats{}, nil
	}
	// Unlink the sources (the first one's name is about to be taken by the copy), then move the copy in.
	for k, s := range segs {
		if k == 0 {
			os.Remove(segmentName(l.dir, s.base, indexSuffix))
			os.Remove(segmentName(l.dir, s.base, timeIndexSuffix))
			s.release()
			continue
		}
		s.drop()
	}
	if err := os.Rename(swap, segmentName(l.dir, base, logSuffix)); err != nil {
		// The sources are gone from the list; keep serving the copy under its swap name, which
		// recovery finishes installing.
		l.logger.Error("install cleaned segment", "segment", swap, "err", err)
	}
	out.size = pos
	out.next = segs[len(segs)-1].next
	out.created = segs[len(segs)-1].created
	for _, s := range segs {
		for _, a := range s.aborted {
			if !tc.droppedMarkers[a.LastOffset] {
				out.aborted = append(out.aborted, a)
			}
		}
	}
	if err := out.writeIndexes(); err != nil {
		l.logger.Warn("write indexes of cleaned segment", "segment", base, "err", err)
	}
	syncDir(l.dir)
	segments := append([]*segment{}, l.mu.segments[:idx]...)
	segments = append(segments, out)
	segments = append(segments, l.mu.segments[idx+len(segs):]...)
	l.mu.segments = segments
	return st, nil
}

// txnCleaning is what one cleaning pass knows of transactions (Kafka's CleanedTransactionMetadata).
type txnCleaning struct {
	aborted        map[int64][]AbortedTxn // by producer ID
	kept           map[int64]bool         // producers whose current transaction has data kept so far
	droppedMarkers map[int64]bool         // offsets of the markers this pass removed
}

// abortedData reports whether h is a data batch of an aborted transaction.
func (tc *txnCleaning) abortedData(h records.Header) bool {
	if !h.Transactional() || h.Control() {
		return false
	}
	for _, a := range tc.aborted[h.ProducerID] {
		if a.FirstOffset <= h.BaseOffset && h.BaseOffset < a.LastOffset {
			return true
		}
	}
	return false
}

// marker decides a transaction marker's fate: kept while data of its transaction was kept; otherwise
// kept until its delete horizon passes. due is the horizon it waits for (0 if none); when it is the
// new horizon, the marker rewritten with it is in *scratch.
func (tc *txnCleaning) marker(h records.Header, batch []byte, horizon int64, now time.Time, scratch *[]byte) (keep bool, due int64, err error) {
	pid := h.ProducerID
	hadData := tc.kept[pid]
	delete(tc.kept, pid)
	if hadData {
		return true, 0, nil
	}
	if h.HasDeleteHorizon() {
		if now.UnixMilli() >= h.FirstTimestamp {
			tc.droppedMarkers[h.BaseOffset] = true
			return false, 0, nil
		}
		return true, h.FirstTimestamp, nil
	}
	_, recs, err := records.Decode(batch)
	if err != nil {
		return false, 0, err
	}
	nh := h
	for k := range recs {
		recs[k].TimestampDelta = h.FirstTimestamp + recs[k].TimestampDelta - horizon
	}
	nh.FirstTimestamp = horizon
	nh.Attributes |= 0x40
	if *scratch, err = records.Encode((*scratch)[:0], nh, recs, h.Codec()); err != nil {
		return false, 0, err
	}
	return true, horizon, nil
}
