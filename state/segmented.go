package state

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"time"
)

// segmented is the retention machinery shared by window and session stores. Data keys start with
// the segment id of their time (window start, session end), so expired data is whole segments at
// the front of the store's key space, dropped with one DeleteRange when stream time moves on.
type segmented struct {
	b         *storeBase
	retention int64 // ms
	interval  int64 // ms

	streamTime   int64 // highest time put; math.MinInt64 before the first
	seq          uint32
	metaDirty    bool
	droppedBelow int64 // segments below this id were dropped by this process
}

func newSegmented(b *storeBase, retention time.Duration, cfg storeConfig) segmented {
	r := retention.Milliseconds()
	iv := cfg.segmentInterval.Milliseconds()
	if iv <= 0 {
		iv = max(r/2, 60_000)
	}
	return segmented{b: b, retention: r, interval: iv, streamTime: math.MinInt64, droppedBelow: math.MinInt64}
}

// minLive is the oldest time still retained.
func (g *segmented) minLive() int64 {
	if g.streamTime == math.MinInt64 {
		return math.MinInt64
	}
	return addSat(g.streamTime, -g.retention+1)
}

func (g *segmented) live(t int64) bool { return t >= g.minLive() }

func (g *segmented) appendSegment(buf []byte, t int64) []byte {
	buf = append(buf, g.b.data...)
	return appendTime(buf, floorDiv(t, g.interval))
}

// observe advances stream time to t and drops the segments that fell out of retention.
func (g *segmented) observe(l layer, t int64) error {
	if t <= g.streamTime {
		return nil
	}
	g.streamTime = t
	g.metaDirty = true
	cutoff := floorDiv(g.minLive(), g.interval)
	if cutoff <= g.droppedBelow {
		return nil
	}
	g.droppedBelow = cutoff
	hi := appendTime(bytes.Clone(g.b.data), cutoff)
	return l.deleteRange(g.b.data, hi)
}

// segmentSpan returns the segment ids holding live data with time in [from, to].
func (g *segmented) segmentSpan(from, to int64) (lo, hi int64, ok bool) {
	if g.streamTime == math.MinInt64 {
		return 0, 0, false
	}
	from = max(from, g.minLive())
	to = min(to, g.streamTime)
	if from > to {
		return 0, 0, false
	}
	return floorDiv(from, g.interval), floorDiv(to, g.interval), true
}

// iterSegments opens one iterator per segment in [segLo, segHi], bounds(seg) giving its key range,
// and merges them into (key, time) order.
func (g *segmented) iterSegments(segLo, segHi int64, reverse bool, bounds func(seg []byte) (lo, hi []byte)) (rawIter, error) {
	var iters []rawIter
	for seg := segLo; seg <= segHi; seg++ {
		segPrefix := appendTime(bytes.Clone(g.b.data), seg)
		lo, hi := bounds(segPrefix)
		if hi != nil && bytes.Compare(lo, hi) >= 0 {
			continue
		}
		it, err := g.b.top.iter(lo, hi, reverse)
		if err != nil {
			for _, it := range iters {
				it.close()
			}
			return nil, err
		}
		iters = append(iters, it)
		if seg == math.MaxInt64 {
			break
		}
	}
	return newMergeIter(iters, len(g.b.data)+8, reverse), nil
}

func (g *segmented) loadMeta() error {
	v, ok, err := g.b.t.db.eng.get(g.b.metaKey(metaTime))
	if err != nil {
		return err
	}
	g.streamTime, g.seq, g.metaDirty, g.droppedBelow = math.MinInt64, 0, false, math.MinInt64
	if ok && len(v) == 12 {
		g.streamTime = int64(binary.BigEndian.Uint64(v))
		g.seq = binary.BigEndian.Uint32(v[8:])
	}
	return nil
}

func (g *segmented) saveMeta(t txn) error {
	if !g.metaDirty {
		return nil
	}
	g.metaDirty = false
	v := binary.BigEndian.AppendUint64(nil, uint64(g.streamTime))
	v = binary.BigEndian.AppendUint32(v, g.seq)
	return t.set(g.b.metaKey(metaTime), v)
}

// topicConfigs: windowed changelogs are compacted and also deleted after the store's retention plus
// a day, as Kafka Streams does (windowstore.changelog.additional.retention.ms).
func (g *segmented) topicConfigs() map[string]string {
	return map[string]string{
		"cleanup.policy": "compact,delete",
		"retention.ms":   strconv.FormatInt(addSat(g.retention, 24*60*60*1000), 10),
	}
}
