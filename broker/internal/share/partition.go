package share

import (
	"errors"
	"sync"
	"time"
)

// Acknowledgement types, as ShareFetch and ShareAcknowledge number them.
const (
	AckGap     int8 = 0 // the offset holds no record
	AckAccept  int8 = 1
	AckRelease int8 = 2
	AckReject  int8 = 3
	AckRenew   int8 = 4 // KIP-1222: extend the acquisition lock
)

// MaxInFlight bounds the records after the SPSO a partition tracks (Kafka's
// group.share.partition.max.record.locks): acquisition stops when the window is full, until
// acknowledgements move the SPSO.
const MaxInFlight = 2000

// ErrInvalidRecordState is returned for an acknowledgement of records the member does not hold.
var ErrInvalidRecordState = errors.New("share: records are not acquired by this member")

// ErrInvalidAck is returned for a malformed acknowledgement (bad range or type).
var ErrInvalidAck = errors.New("share: invalid acknowledgement")

type recState uint8

const (
	available recState = iota
	acquired
	acknowledged
	archived
)

// record is the state of one in-flight offset.
type record struct {
	state    recState
	count    int16 // deliveries so far
	member   string
	deadline time.Time
}

// Partition is the share-partition state of one share group on one topic partition. Its methods are
// safe for concurrent use.
type Partition struct {
	m   *Manager
	key Key

	mu struct {
		sync.Mutex
		start   int64    // SPSO: every offset below is acknowledged or archived
		recs    []record // recs[i] is offset start+i; len(recs) is the in-flight window (SPEO - SPSO)
		deleted bool     // removed from the manager: its state must not be stored again
	}
}

// Batch is one record batch read from the log: the offsets it spans and whether it is a control batch
// (a transaction marker, never delivered).
type Batch struct {
	First, Last int64
	Control     bool
}

// Acquired is a run of consecutive offsets acquired with the same delivery count.
type Acquired struct {
	First, Last int64
	Deliveries  int16
}

// Limits are a share group's settings that govern acquisition.
type Limits struct {
	Lock          time.Duration // share.record.lock.duration.ms
	DeliveryLimit int16         // share.delivery.count.limit
}

// Start returns the SPSO.
func (p *Partition) Start() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.start
}

// NextCandidate expires stale locks and returns the first offset a fetch should read from: the first
// available in-flight record, or the end of the window. logStart moves the SPSO past records the log
// no longer has. It returns -1 if the window is full and nothing in it is available.
func (p *Partition) NextCandidate(now time.Time, logStart int64, lim Limits) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked(now, lim)
	if logStart > p.mu.start {
		p.moveStartLocked(logStart)
	}
	for i, r := range p.mu.recs {
		if r.state == available {
			return p.mu.start + int64(i)
		}
	}
	if len(p.mu.recs) >= MaxInFlight {
		return -1
	}
	return p.mu.start + int64(len(p.mu.recs))
}

// Acquire acquires for member the available records of batches (in offset order, as read from the
// log), at most maxRecords of them unless whole-batch acquisition (strict false) makes it go past that
// within the batch that reaches it. It returns the acquired runs and how many leading batches hold
// them; the caller sends the records of those batches.
func (p *Partition) Acquire(member string, batches []Batch, maxRecords int, strict bool, now time.Time, lim Limits) ([]Acquired, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Acquired
	n, used := 0, 0
	deadline := now.Add(lim.Lock)
	for bi, b := range batches {
		if n >= maxRecords {
			break
		}
		got := false
		for off := max(b.First, p.mu.start); off <= b.Last; off++ {
			if strict && n >= maxRecords {
				break
			}
			i := off - p.mu.start
			if i >= MaxInFlight {
				break
			}
			for int64(len(p.mu.recs)) < i { // offsets missing from the log: nothing to deliver
				p.mu.recs = append(p.mu.recs, record{state: archived})
			}
			if i == int64(len(p.mu.recs)) {
				if len(p.mu.recs) >= MaxInFlight {
					break
				}
				p.mu.recs = append(p.mu.recs, record{})
			}
			r := &p.mu.recs[i]
			if r.state != available {
				continue
			}
			if b.Control {
				r.state = archived
				continue
			}
			r.state, r.member, r.deadline = acquired, member, deadline
			r.count++
			n++
			got = true
			if k := len(out) - 1; k >= 0 && out[k].Last == off-1 && out[k].Deliveries == r.count {
				out[k].Last = off
			} else {
				out = append(out, Acquired{First: off, Last: off, Deliveries: r.count})
			}
		}
		if got {
			used = bi + 1
		}
	}
	p.advanceLocked()
	if n > 0 {
		p.m.afterLock(lim.Lock)
	}
	return out, used
}

// Acknowledge applies one acknowledgement batch of member: types holds one type for the whole range
// or one per offset. Every offset must be held by member (GAP offsets may also be available). Nothing
// changes if any offset fails. The change is in memory only: the caller makes it durable with
// Manager.Persist before it answers, one synced write for all the partitions of a request.
func (p *Partition) Acknowledge(member string, first, last int64, types []int8, now time.Time, lim Limits) error {
	if first > last || last-first >= MaxInFlight || len(types) != 1 && int64(len(types)) != last-first+1 {
		return ErrInvalidAck
	}
	typeOf := func(off int64) int8 {
		if len(types) == 1 {
			return types[0]
		}
		return types[off-first]
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked(now, lim)
	for off := first; off <= last; off++ {
		t := typeOf(off)
		if t < AckGap || t > AckRenew {
			return ErrInvalidAck
		}
		i := off - p.mu.start
		if i < 0 || i >= int64(len(p.mu.recs)) {
			return ErrInvalidRecordState
		}
		r := p.mu.recs[i]
		held := r.state == acquired && r.member == member
		if !held && !(t == AckGap && r.state == available) {
			return ErrInvalidRecordState
		}
	}
	released := false
	for off := first; off <= last; off++ {
		r := &p.mu.recs[off-p.mu.start]
		switch typeOf(off) {
		case AckAccept:
			r.state = acknowledged
		case AckGap, AckReject:
			r.state = archived
		case AckRelease:
			p.releaseLocked(r, lim)
			released = true
		case AckRenew:
			r.deadline = now.Add(lim.Lock)
			continue
		}
		r.member = ""
	}
	if renewOnly(types) {
		p.m.afterLock(lim.Lock)
		return nil
	}
	p.advanceLocked()
	if released {
		p.m.notify()
	}
	return nil
}

func renewOnly(types []int8) bool {
	for _, t := range types {
		if t != AckRenew {
			return false
		}
	}
	return true
}

// ReleaseMember makes every record member holds available again (its share session closed or it left
// the group), and stores the state. As in Kafka, such records count as never delivered: their
// delivery count goes back down and they are never archived for it, since a member that closes
// returns what it fetched but did not hand to its application.
func (p *Partition) ReleaseMember(member string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for i := range p.mu.recs {
		if r := &p.mu.recs[i]; r.state == acquired && r.member == member {
			r.state, r.member = available, ""
			r.count = max(r.count-1, 0)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	p.advanceLocked()
	err := p.storeLocked()
	p.m.notify()
	return err
}

// Lag is the number of records from the SPSO to end that are not yet acknowledged or archived.
func (p *Partition) Lag(end int64) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	lag := max(end-p.mu.start, 0)
	for i, r := range p.mu.recs {
		if p.mu.start+int64(i) < end && (r.state == acknowledged || r.state == archived) {
			lag--
		}
	}
	return lag
}

// REQUIRES: p.mu is held.
func (p *Partition) releaseLocked(r *record, lim Limits) {
	r.member = ""
	if lim.DeliveryLimit > 0 && r.count >= lim.DeliveryLimit {
		r.state = archived
	} else {
		r.state = available
	}
}

// expireLocked releases every record whose acquisition lock has expired.
// REQUIRES: p.mu is held.
func (p *Partition) expireLocked(now time.Time, lim Limits) {
	changed := false
	for i := range p.mu.recs {
		if r := &p.mu.recs[i]; r.state == acquired && !now.Before(r.deadline) {
			p.releaseLocked(r, lim)
			changed = true
		}
	}
	if changed {
		p.advanceLocked()
	}
}

// advanceLocked moves the SPSO past the acknowledged and archived records at the front of the window.
// REQUIRES: p.mu is held.
func (p *Partition) advanceLocked() {
	i := 0
	for i < len(p.mu.recs) && (p.mu.recs[i].state == acknowledged || p.mu.recs[i].state == archived) {
		i++
	}
	if i > 0 {
		p.mu.start += int64(i)
		p.mu.recs = append(p.mu.recs[:0:0], p.mu.recs[i:]...)
	}
}

// moveStartLocked sets the SPSO to off, forgetting in-flight records below it; records past the old
// window are not tracked yet.
// REQUIRES: p.mu is held.
func (p *Partition) moveStartLocked(off int64) {
	skip := off - p.mu.start
	if skip >= int64(len(p.mu.recs)) {
		p.mu.recs = nil
	} else {
		p.mu.recs = append(p.mu.recs[:0:0], p.mu.recs[skip:]...)
	}
	p.mu.start = off
}

// Reset moves the SPSO to off and drops every in-flight record (AlterShareGroupOffsets), durably.
func (p *Partition) Reset(off int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.start = off
	p.mu.recs = nil
	return p.storeLocked()
}
