package dsl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// ForeignKeyJoin joins each row of left with the row of right whose key fk extracts from it
// (KTable#join with a foreign-key extractor, KIP-213). A left row is re-joined when it changes
// and whenever the right row it points to changes; a result row exists while both rows do. The
// join runs through two internal topics: "<name>-subscription-registration-topic", keyed by the
// foreign key and co-partitioned with right, and "<name>-subscription-response-topic", keyed by
// left's key and co-partitioned with left. Out-of-order responses for a left row that changed
// since are discarded by comparing a hash of the row's value (KIP-213's "hash check").
// Options: Named, Partitions (of the subscription topic: right's partition count, when it differs
// from left's). The result has no value serde (give it with WithValueSerde) and no store of its own
// (Materialize gives it one).
func ForeignKeyJoin[K, V, KO, VO, VR any](left *Table[K, V], right *Table[KO, VO], fk func(value V) (KO, error), joiner func(left V, right VO) (VR, error), opts ...JoinOpt) *Table[K, VR] {
	return foreignKeyJoin(left, right, fk, func(l V, r VO, _ bool) (VR, error) { return joiner(l, r) }, false, opts)
}

// ForeignKeyLeftJoin keeps every row of left, joined with the right row when there is one
// (KTable#leftJoin with a foreign-key extractor); a left row whose foreign key is nil joins nothing.
func ForeignKeyLeftJoin[K, V, KO, VO, VR any](left *Table[K, V], right *Table[KO, VO], fk func(value V) (KO, error), joiner func(left V, right VO, hasRight bool) (VR, error), opts ...JoinOpt) *Table[K, VR] {
	return foreignKeyJoin(left, right, fk, joiner, true, opts)
}

// Subscription instructions, as in Kafka Streams' SubscriptionWrapper.Instruction.
const (
	deleteKeyAndPropagate byte = iota
	deleteKeyNoPropagate
	propagateNullIfNoFKValue
	propagateOnlyIfFKValue
)

type subscription[K any] struct {
	instruction byte
	hasHash     bool
	hash        uint64
	pk          K
}

type response[VO any] struct {
	hasHash  bool
	hash     uint64
	hasValue bool
	value    VO
}

func foreignKeyJoin[K, V, KO, VO, VR any](left *Table[K, V], right *Table[KO, VO], fk func(V) (KO, error), joiner func(V, VO, bool) (VR, error), leftJoin bool, opts []JoinOpt) *Table[K, VR] {
	b := left.b
	c := newOpConfig(opts)
	base := b.nameOr(c, "KTABLE-FK-JOIN-")
	left, right = left.materialized(), right.materialized()
	if left.store == "" || right.store == "" {
		return &Table[K, VR]{b: b, node: left.node}
	}
	lkeys, lvals, rkeys, rvals := left.keys, left.values, right.keys, right.values
	lstore, rstore := left.store, right.store
	subStore := base + "-subscription-store"
	subTopic := base + "-subscription-registration-topic"
	respTopic := base + "-subscription-response-topic"
	subSerde := subscriptionSerde[K]{keys: lkeys}
	respSerde := responseSerde[VO]{values: rvals}

	send := base + "-subscription-registration"
	addProcessor(b, send, func() runtime.Processor[K, Change[V], KO, subscription[K]] {
		return &fkSubscriptionSend[K, V, KO]{fk: fk, values: lvals, fkeys: rkeys, leftJoin: leftJoin}
	}, left.node)
	b.topo.AddRepartitionTopic(subTopic, c.partitions)
	runtime.AddSink(b.topo, send+"-sink", runtime.SinkSpec[KO, subscription[K]]{Topic: subTopic, Keys: rkeys, Values: subSerde}, send)
	subSrc := send + "-source"
	runtime.AddSource(b.topo, subSrc, runtime.SourceSpec[KO, subscription[K]]{Topics: []string{subTopic}, Keys: rkeys, Values: subSerde})

	recv := base + "-subscription-receive"
	addProcessor(b, recv, func() runtime.Processor[KO, subscription[K], K, response[VO]] {
		return &fkSubscriptionReceive[K, KO, VO]{subStore: subStore, rightStore: rstore, fkeys: rkeys, pkeys: lkeys, rvals: rvals}
	}, subSrc)
	b.topo.AddStateStore(dslStore{name: subStore, kind: kvKind}, recv)
	b.topo.ConnectStores(recv, rstore)

	fjoin := base + "-foreign-table-join"
	addProcessor(b, fjoin, func() runtime.Processor[KO, Change[VO], K, response[VO]] {
		return &fkForeignTableJoin[K, KO, VO]{subStore: subStore, fkeys: rkeys, pkeys: lkeys}
	}, right.node)
	b.topo.ConnectStores(fjoin, subStore)

	b.topo.AddRepartitionTopic(respTopic, 0)
	runtime.AddSink(b.topo, base+"-subscription-response-sink", runtime.SinkSpec[K, response[VO]]{Topic: respTopic, Keys: lkeys, Values: respSerde}, recv, fjoin)
	respSrc := base + "-subscription-response-source"
	runtime.AddSource(b.topo, respSrc, runtime.SourceSpec[K, response[VO]]{Topics: []string{respTopic}, Keys: lkeys, Values: respSerde})

	if leftJoin {
		// A left row with a null foreign key subscribes to nothing; its null-joined result goes
		// straight to the response topic (Kafka Streams sends it through the subscription topic
		// under a null key to get the same response back).
		nullFK := base + "-null-foreign-key"
		addProcessor(b, nullFK, func() runtime.Processor[K, Change[V], K, response[VO]] {
			return &fkNullForeignKey[K, V, KO, VO]{fk: fk, values: lvals}
		}, left.node)
		runtime.AddSink(b.topo, nullFK+"-sink", runtime.SinkSpec[K, response[VO]]{Topic: respTopic, Keys: lkeys, Values: respSerde}, nullFK)
	}

	resolve := base + "-result"
	addProcessor(b, resolve, func() runtime.Processor[K, response[VO], K, Change[VR]] {
		return &fkResponseJoin[K, V, VO, VR]{leftStore: lstore, keys: lkeys, values: lvals, joiner: joiner, leftJoin: leftJoin}
	}, respSrc)
	b.topo.ConnectStores(resolve, lstore)
	b.copartition(subSrc, right.node)
	b.copartition(respSrc, left.node)

	return &Table[K, VR]{b: b, node: resolve, keys: lkeys}
}

func valueHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// fkSubscriptionSend is Kafka Streams' SubscriptionSendProcessorSupplier: it tells the foreign
// key's partition which left rows point at it.
type fkSubscriptionSend[K, V, KO any] struct {
	forwarder[KO, subscription[K]]
	fk       func(V) (KO, error)
	values   serde.Serde[V]
	fkeys    serde.Serde[KO]
	leftJoin bool
}

func (p *fkSubscriptionSend[K, V, KO]) Process(rec runtime.Record[K, Change[V]]) error {
	ch := rec.Value
	send := func(fk KO, ins byte, hash uint64, hasHash bool) error {
		if serde.IsNil(fk) {
			return nil
		}
		return p.ctx.Forward(runtime.WithKeyValue(rec, fk, subscription[K]{instruction: ins, hasHash: hasHash, hash: hash, pk: rec.Key}))
	}
	var oldFK KO
	var oldB []byte
	var err error
	if ch.HasOld {
		if oldFK, err = p.fk(ch.Old); err != nil {
			return err
		}
		if oldB, err = p.fkeys.Serialize(oldFK); err != nil {
			return err
		}
	}
	if !ch.HasNew {
		if ch.HasOld {
			return send(oldFK, deleteKeyAndPropagate, 0, false)
		}
		return nil
	}
	vb, err := p.values.Serialize(ch.New)
	if err != nil {
		return err
	}
	hash := valueHash(vb)
	newFK, err := p.fk(ch.New)
	if err != nil {
		return err
	}
	if serde.IsNil(newFK) {
		// A left row whose foreign key became null joins nothing. The inner join deletes the old
		// result through the old subscription (its response carries the new value's hash, so the
		// result resolver accepts it); the left join only unsubscribes, and fkNullForeignKey answers
		// the row with its null-joined result.
		if !ch.HasOld {
			return nil
		}
		if p.leftJoin {
			return send(oldFK, deleteKeyNoPropagate, hash, true)
		}
		return send(oldFK, deleteKeyAndPropagate, hash, true)
	}
	newB, err := p.fkeys.Serialize(newFK)
	if err != nil {
		return err
	}
	switch {
	case !ch.HasOld:
		ins := propagateOnlyIfFKValue
		if p.leftJoin {
			ins = propagateNullIfNoFKValue
		}
		return send(newFK, ins, hash, true)
	case !bytes.Equal(oldB, newB):
		if err := send(oldFK, deleteKeyNoPropagate, hash, true); err != nil {
			return err
		}
		return send(newFK, propagateNullIfNoFKValue, hash, true)
	default:
		return send(newFK, propagateNullIfNoFKValue, hash, true)
	}
}

// fkNullForeignKey answers a left join's left row whose foreign key is null with "no right row",
// stamped with the row's hash, so that the result resolver emits the row joined with null (Kafka
// Streams' PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE for a null foreign key).
type fkNullForeignKey[K, V, KO, VO any] struct {
	forwarder[K, response[VO]]
	fk     func(V) (KO, error)
	values serde.Serde[V]
}

func (p *fkNullForeignKey[K, V, KO, VO]) Process(rec runtime.Record[K, Change[V]]) error {
	if !rec.Value.HasNew {
		return nil
	}
	fk, err := p.fk(rec.Value.New)
	if err != nil || !serde.IsNil(fk) {
		return nil // an extractor error is reported once, by the subscription sender
	}
	vb, err := p.values.Serialize(rec.Value.New)
	if err != nil {
		return err
	}
	return p.ctx.Forward(runtime.Record[K, response[VO]]{Key: rec.Key, Value: response[VO]{hasHash: true, hash: valueHash(vb)}, Timestamp: rec.Timestamp, Headers: rec.Headers})
}

// subKey is the subscription store's key: foreign key (length-prefixed, for prefix scans) then
// primary key.
func subKey(fkb, pkb []byte) []byte {
	out := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(fkb)+len(pkb)), uint64(len(fkb)))
	return append(append(out, fkb...), pkb...)
}

// fkSubscriptionReceive is Kafka Streams' SubscriptionReceiveProcessorSupplier and
// SubscriptionJoinProcessorSupplier: it records the subscription and answers it with the right
// row's current value.
type fkSubscriptionReceive[K, KO, VO any] struct {
	forwarder[K, response[VO]]
	subStore, rightStore string
	fkeys                serde.Serde[KO]
	pkeys                serde.Serde[K]
	rvals                serde.Serde[VO]
	subs                 state.KeyValueStore
	right                state.TimestampedKV[KO, VO]
}

func (p *fkSubscriptionReceive[K, KO, VO]) Init(ctx runtime.ProcessorContext[K, response[VO]]) error {
	p.ctx = ctx
	s, err := ctx.StateStore(p.subStore)
	if err != nil {
		return err
	}
	p.subs = s.(state.KeyValueStore)
	p.right, err = runtime.GetTimestampedKeyValueStore(ctx, p.rightStore, p.fkeys, p.rvals)
	return err
}

func (p *fkSubscriptionReceive[K, KO, VO]) Process(rec runtime.Record[KO, subscription[K]]) error {
	sub := rec.Value
	fkb, err := p.fkeys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	pkb, err := p.pkeys.Serialize(sub.pk)
	if err != nil {
		return err
	}
	key := subKey(fkb, pkb)
	if sub.instruction == deleteKeyAndPropagate || sub.instruction == deleteKeyNoPropagate {
		if err := p.subs.Delete(key); err != nil {
			return err
		}
	} else if err := p.subs.Put(key, binary.BigEndian.AppendUint64(nil, sub.hash)); err != nil {
		return err
	}
	out := func(r response[VO]) error {
		return p.ctx.Forward(runtime.Record[K, response[VO]]{Key: sub.pk, Value: r, Timestamp: rec.Timestamp, Headers: rec.Headers})
	}
	switch sub.instruction {
	case deleteKeyNoPropagate:
		return nil
	case deleteKeyAndPropagate:
		// No right value; the hash is the left row's current one (none when the row was deleted).
		return out(response[VO]{hasHash: sub.hasHash, hash: sub.hash})
	}
	cur, ok, err := p.right.Get(rec.Key)
	if err != nil {
		return err
	}
	v := cur.Value
	if !ok && sub.instruction == propagateOnlyIfFKValue {
		return nil
	}
	return out(response[VO]{hasHash: true, hash: sub.hash, hasValue: ok, value: v})
}

// fkForeignTableJoin is Kafka Streams' ForeignTableJoinProcessorSupplier: a change of a right row
// is sent to every left row subscribed to it.
type fkForeignTableJoin[K, KO, VO any] struct {
	forwarder[K, response[VO]]
	subStore string
	fkeys    serde.Serde[KO]
	pkeys    serde.Serde[K]
	subs     state.KeyValueStore
}

func (p *fkForeignTableJoin[K, KO, VO]) Init(ctx runtime.ProcessorContext[K, response[VO]]) error {
	p.ctx = ctx
	s, err := ctx.StateStore(p.subStore)
	if err != nil {
		return err
	}
	p.subs = s.(state.KeyValueStore)
	return nil
}

func (p *fkForeignTableJoin[K, KO, VO]) Process(rec runtime.Record[KO, Change[VO]]) error {
	if serde.IsNil(rec.Key) {
		return nil
	}
	fkb, err := p.fkeys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	prefix := subKey(fkb, nil)
	it, err := p.subs.PrefixScan(prefix)
	if err != nil {
		return err
	}
	type sub struct {
		pk   []byte
		hash uint64
	}
	var subs []sub
	for it.Next() {
		if len(it.Value()) == 8 {
			subs = append(subs, sub{bytes.Clone(it.Key()[len(prefix):]), binary.BigEndian.Uint64(it.Value())})
		}
	}
	err = it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, s := range subs {
		pk, err := p.pkeys.Deserialize(s.pk)
		if err != nil {
			return err
		}
		r := response[VO]{hasHash: true, hash: s.hash, hasValue: rec.Value.HasNew, value: rec.Value.New}
		if err := p.ctx.Forward(runtime.Record[K, response[VO]]{Key: pk, Value: r, Timestamp: rec.Timestamp, Headers: rec.Headers}); err != nil {
			return err
		}
	}
	return nil
}

// fkResponseJoin is Kafka Streams' ResponseJoinProcessorSupplier: it joins a response with the
// left row it answers, if the row is still the one the response was computed for.
type fkResponseJoin[K, V, VO, VR any] struct {
	forwarder[K, Change[VR]]
	leftStore string
	keys      serde.Serde[K]
	values    serde.Serde[V]
	joiner    func(V, VO, bool) (VR, error)
	leftJoin  bool
	left      state.TimestampedKeyValueStore
}

func (p *fkResponseJoin[K, V, VO, VR]) Init(ctx runtime.ProcessorContext[K, Change[VR]]) error {
	p.ctx = ctx
	s, err := ctx.StateStore(p.leftStore)
	if err != nil {
		return err
	}
	p.left = s.(state.TimestampedKeyValueStore)
	return nil
}

func (p *fkResponseJoin[K, V, VO, VR]) Process(rec runtime.Record[K, response[VO]]) error {
	kb, err := p.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	vb, _, ok, err := p.left.Get(kb)
	if err != nil {
		return err
	}
	r := rec.Value
	var current uint64
	if ok {
		current = valueHash(vb)
	}
	if r.hasHash != ok || (ok && current != r.hash) {
		return nil // the left row changed since: a newer response is on its way
	}
	var out Change[VR]
	if ok && (r.hasValue || p.leftJoin) {
		v, err := p.values.Deserialize(vb)
		if err != nil {
			return err
		}
		if out.New, err = p.joiner(v, r.value, r.hasValue); err != nil {
			return err
		}
		out.HasNew = true
	}
	return p.ctx.Forward(runtime.WithValue(rec, out))
}

// subscriptionSerde: version 0, instruction, flag (1: hash present), hash (8), primary key.
type subscriptionSerde[K any] struct{ keys serde.Serde[K] }

var errBadSubscription = errors.New("dsl: malformed foreign-key join record")

func (s subscriptionSerde[K]) Serialize(sub subscription[K]) ([]byte, error) {
	pk, err := s.keys.Serialize(sub.pk)
	if err != nil {
		return nil, err
	}
	out := []byte{0, sub.instruction, 0}
	if sub.hasHash {
		out[2] = 1
	}
	out = binary.BigEndian.AppendUint64(out, sub.hash)
	return append(out, pk...), nil
}

func (s subscriptionSerde[K]) Deserialize(b []byte) (subscription[K], error) {
	var sub subscription[K]
	if len(b) < 11 || b[0] != 0 {
		return sub, errBadSubscription
	}
	sub.instruction, sub.hasHash, sub.hash = b[1], b[2] == 1, binary.BigEndian.Uint64(b[3:])
	pk, err := s.keys.Deserialize(b[11:])
	sub.pk = pk
	return sub, err
}

// responseSerde: version 0, flags (1: hash present, 2: value present), hash (8), value.
type responseSerde[VO any] struct{ values serde.Serde[VO] }

func (s responseSerde[VO]) Serialize(r response[VO]) ([]byte, error) {
	out := []byte{0, 0}
	if r.hasHash {
		out[1] |= 1
	}
	var vb []byte
	if r.hasValue {
		out[1] |= 2
		var err error
		if vb, err = s.values.Serialize(r.value); err != nil {
			return nil, err
		}
	}
	out = binary.BigEndian.AppendUint64(out, r.hash)
	return append(out, vb...), nil
}

func (s responseSerde[VO]) Deserialize(b []byte) (response[VO], error) {
	var r response[VO]
	if len(b) < 10 || b[0] != 0 {
		return r, errBadSubscription
	}
	r.hasHash, r.hasValue, r.hash = b[1]&1 != 0, b[1]&2 != 0, binary.BigEndian.Uint64(b[2:])
	if r.hasValue {
		v, err := s.values.Deserialize(b[10:])
		if err != nil {
			return r, err
		}
		r.value = v
	}
	return r, nil
}
