package group

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Keys, all under "g/" (the broker's other prefixes belong to others):
//
//	g/o/<group><topic><partition>  committed offset; group and topic are uvarint-length-prefixed and
//	                               the partition is 4 bytes big endian, so one group's offsets share a
//	                               prefix no other group's keys have
//	g/m/<group>                    the group's generation and protocol type (a KIP-848 or share group's
//	                               epoch and a protocol type marking its kind)
//	g/k/<group>                    the group's dynamic configs (group_configs.go)
//
// Values start with a format version byte.
const (
	offsetPrefix = "g/o/"
	metaPrefix   = "g/m/"
	valueVersion = 1
)

var (
	keysLower = []byte("g/")
	keysUpper = []byte("g0") // '0' follows '/'
)

func appendLenString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readLenString(b []byte) (string, []byte, bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return "", nil, false
	}
	return string(b[w : w+int(n)]), b[w+int(n):], true
}

func groupOffsetsPrefix(group string) []byte {
	return appendLenString([]byte(offsetPrefix), group)
}

func offsetKey(group, topic string, partition int32) []byte {
	k := appendLenString(groupOffsetsPrefix(group), topic)
	return binary.BigEndian.AppendUint32(k, uint32(partition))
}

func metaKey(group string) []byte { return append([]byte(metaPrefix), group...) }

// prefixEnd returns the smallest key greater than every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff; cannot happen for our prefixes
}

func encodeOffset(o committed) []byte {
	v := make([]byte, 0, 21+len(o.metadata))
	v = append(v, valueVersion)
	v = binary.BigEndian.AppendUint64(v, uint64(o.offset))
	v = binary.BigEndian.AppendUint32(v, uint32(o.leaderEpoch))
	v = binary.BigEndian.AppendUint64(v, uint64(o.at.UnixMilli()))
	return append(v, o.metadata...)
}

func decodeOffset(v []byte) (committed, bool) {
	if len(v) < 21 || v[0] != valueVersion {
		return committed{}, false
	}
	return committed{
		offset:      int64(binary.BigEndian.Uint64(v[1:])),
		leaderEpoch: int32(binary.BigEndian.Uint32(v[9:])),
		at:          time.UnixMilli(int64(binary.BigEndian.Uint64(v[13:]))),
		metadata:    string(v[21:]),
	}, true
}

func encodeMeta(generation int32, protocolType string) []byte {
	v := make([]byte, 0, 5+len(protocolType))
	v = append(v, valueVersion)
	v = binary.BigEndian.AppendUint32(v, uint32(generation))
	return append(v, protocolType...)
}

func decodeMeta(v []byte) (generation int32, protocolType string, ok bool) {
	if len(v) < 5 || v[0] != valueVersion {
		return 0, "", false
	}
	return int32(binary.BigEndian.Uint32(v[1:])), string(v[5:]), true
}

// load reads every stored group and offset. Groups come back Empty. New calls it before the coordinator
// is shared, so it takes no locks.
func (c *Coordinator) load() error {
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: keysLower, UpperBound: keysUpper})
	if err != nil {
		return fmt.Errorf("group: load: %w", err)
	}
	get := func(name string) *group {
		g := c.mu.groups[name]
		if g == nil {
			g = c.newGroup(name)
			c.mu.groups[name] = g
		}
		return g
	}
	var errs []error
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		switch {
		case len(k) > len(offsetPrefix) && string(k[:len(offsetPrefix)]) == offsetPrefix:
			name, rest, ok1 := readLenString(k[len(offsetPrefix):])
			topic, rest, ok2 := readLenString(rest)
			o, ok3 := decodeOffset(it.Value())
			if !ok1 || !ok2 || !ok3 || len(rest) != 4 {
				errs = append(errs, fmt.Errorf("group: malformed offset entry %q", k))
				continue
			}
			g := get(name)
			g.setOffsetLocked(topic, int32(binary.BigEndian.Uint32(rest)), o)
			if o.at.After(g.mu.emptySince) {
				g.mu.emptySince = o.at
			}
		case len(k) > len(pendingPrefix) && string(k[:len(pendingPrefix)]) == pendingPrefix:
			if err := c.loadPending(k, it.Value()); err != nil {
				errs = append(errs, err)
			}
		case len(k) > len(metaPrefix) && string(k[:len(metaPrefix)]) == metaPrefix:
			gen, pt, ok := decodeMeta(it.Value())
			if !ok {
				errs = append(errs, fmt.Errorf("group: malformed group entry %q", k))
				continue
			}
			g := get(string(k[len(metaPrefix):]))
			if pt == shareProtocolType {
				g.mu.share = &shareGroup{members: make(map[string]*shareMember), epoch: gen, assignmentEpoch: gen}
				g.mu.protocolType = "share"
				continue
			}
			if pt == consumerProtocolType {
				// A KIP-848 group comes back without members: they rejoin with epoch 0.
				g.mu.consumer = newConsumerGroup()
				g.mu.consumer.epoch = gen
				g.mu.consumer.assignmentEpoch = gen
				g.mu.protocolType = "consumer"
				continue
			}
			g.mu.generation = gen
			g.mu.protocolType = pt
		case len(k) > len(groupConfigPrefix) && string(k[:len(groupConfigPrefix)]) == groupConfigPrefix:
			var cfg map[string]string
			if err := json.Unmarshal(it.Value(), &cfg); err != nil {
				errs = append(errs, fmt.Errorf("group: malformed group config entry %q: %w", k, err))
				continue
			}
			c.mu.configs[string(k[len(groupConfigPrefix):])] = cfg
		default:
			errs = append(errs, fmt.Errorf("group: unknown key %q", k))
		}
	}
	errs = append(errs, it.Close())
	now := time.Now()
	for _, g := range c.mu.groups {
		if g.mu.emptySince.IsZero() {
			g.mu.emptySince = now
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("group: load: %w", err)
	}
	return nil
}
