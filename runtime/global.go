package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// GlobalStoreSpec describes a global store: a timestamped key-value store holding the latest value
// of every key of Topic, read from all its partitions (Kafka Streams' global state store, the store
// behind a GlobalKTable).
type GlobalStoreSpec[K, V any] struct {
	Topic  string
	Keys   serde.Serde[K]
	Values serde.Serde[V]
	// SourceName and ProcessorName name the source node reading Topic and the processor node
	// writing the store, as Describe shows them; they default to "<store>-source" and
	// "<store>-processor". Neither node is part of a sub-topology.
	SourceName, ProcessorName string
}

// globalDef is a global store as built.
type globalDef struct {
	name, topic       string
	source, processor string // node names, for Describe
	// decode deserializes a record of the topic: del is true for a null value (a delete), skip for
	// a null key, which a table cannot hold.
	decode func(key, value []byte) (skip, del bool, err error)
}

// AddGlobalStore adds a global store named name, materialized from every partition of
// spec.Topic. Unlike a store added with AddStateStore it belongs to no task: every task of the
// application instance reads the same copy, through GetGlobalStore, without connecting it. The
// topic is not co-partitioned with anything and may not also be read by a source node. There is no
// changelog: the topic is the changelog, and the runtime reads it to its end before any task
// processes a record, then keeps applying its new records.
//
// The store lives in the state directory with a checkpoint, the offset of each partition of the
// topic it covers, written every commit interval and when the application stops cleanly. A
// restart resumes reading from the checkpoint. Without one (first start, or a crash before the
// first checkpoint), or with one that does not fit the topic (records deleted past it, or offsets
// beyond the end after the topic was recreated), the store is dropped and rebuilt from the
// beginning of the topic.
func AddGlobalStore[K, V any](t *Topology, name string, spec GlobalStoreSpec[K, V]) {
	if name == "" || spec.Topic == "" {
		t.fail("a global store needs a name and a topic")
		return
	}
	if spec.Keys == nil || spec.Values == nil {
		t.fail("global store %s needs a key and a value serde", name)
		return
	}
	if _, dup := t.storeBy[name]; dup {
		t.fail("state store %s is already added", name)
		return
	}
	source, processor := spec.SourceName, spec.ProcessorName
	if source == "" {
		source = name + "-source"
	}
	if processor == "" {
		processor = name + "-processor"
	}
	if source == processor {
		t.fail("global store %s: source and processor are both named %s", name, source)
		return
	}
	for _, g := range t.globals {
		switch {
		case g.name == name:
			t.fail("global store %s is already added", name)
			return
		case g.topic == spec.Topic:
			t.fail("topic %s is already read by global store %s", spec.Topic, g.name)
			return
		case g.source == source || g.processor == source || g.source == processor || g.processor == processor:
			t.fail("global store %s: node names %s and %s are already used by global store %s", name, source, processor, g.name)
			return
		}
	}
	for _, n := range t.nodes {
		if n.kind == sourceKind && slices.Contains(n.topics, spec.Topic) {
			t.fail("topic %s of global store %s is already read by source %s", spec.Topic, name, n.name)
			return
		}
		if n.name == source || n.name == processor {
			t.fail("global store %s: node %s is already added", name, n.name)
			return
		}
	}
	keys, values := spec.Keys, spec.Values
	t.globals = append(t.globals, &globalDef{name: name, topic: spec.Topic, source: source, processor: processor, decode: func(kb, vb []byte) (bool, bool, error) {
		if kb == nil {
			return true, false, nil
		}
		k, err := keys.Deserialize(kb)
		if err != nil {
			return false, false, err
		}
		if serde.IsNil(k) {
			return true, false, nil
		}
		if vb == nil {
			return false, true, nil
		}
		v, err := values.Deserialize(vb)
		if err != nil {
			return false, false, err
		}
		return false, serde.IsNil(v), nil
	}})
}

// globalStore is one open global store. The goroutine applying the topic's records (the App's
// global consumer, or the TestDriver's caller) writes it; tasks on every stream thread read it.
type globalStore struct {
	def *globalDef
	mu  struct {
		sync.Mutex
		st *state.Task
		kv state.TimestampedKeyValueStore
		// next is the offset after the last record applied, by partition of the topic: what the
		// next checkpoint records. dirty is set when it moved since the last checkpoint.
		next  map[int32]int64
		dirty bool
	}
}

// apply writes the records of the store's topic and commits them, so readers never see a partly
// applied batch. Records are stored as they are in the topic; a record that does not deserialize
// goes to the deserialization error handler. The commit carries no checkpoint: that is written by
// checkpoint, less often.
func (g *globalStore) apply(ctx context.Context, sh *shared, recs []*kgo.Record) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range recs {
		if r.Attrs.IsControl() {
			continue // a transaction marker: only its offset counts, below
		}
		skip, del, err := g.def.decode(r.Key, r.Value)
		if err != nil {
			de := fmt.Errorf("runtime: global store %s: deserialize %s/%d@%d: %w", g.def.name, r.Topic, r.Partition, r.Offset, err)
			if sh.onDeser(de) == Fail {
				return de
			}
			sh.logger.Warn("runtime: skipping global store record", "store", g.def.name, "err", de)
			continue
		}
		switch {
		case skip:
			sh.logger.Warn("runtime: skipping global store record with a null key", "store", g.def.name, "topic", r.Topic)
		case del:
			err = g.mu.kv.Delete(r.Key)
		default:
			err = g.mu.kv.Put(r.Key, r.Value, r.Timestamp.UnixMilli())
		}
		if err != nil {
			return err
		}
	}
	if err := g.mu.st.Flush(ctx); err != nil {
		return err
	}
	if err := g.mu.st.Commit(ctx); err != nil {
		return err
	}
	for _, r := range recs {
		if r.Offset+1 > g.mu.next[r.Partition] {
			g.mu.next[r.Partition] = r.Offset + 1
			g.mu.dirty = true
		}
	}
	return nil
}

// checkpoint records the offsets applied so far (Kafka Streams' GlobalStateManager checkpoint).
// The checkpoint goes into the store's own commit, one atomic write with every change it covers:
// it is durable only with them, never ahead of them. Changes committed after the checkpoint are
// not covered by it; after a crash they are applied again from the topic, which is harmless since
// the store keeps the latest value of each key and re-applying a suffix of the topic ends in the
// same state.
func (g *globalStore) checkpoint(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.mu.dirty {
		return nil
	}
	for p, next := range g.mu.next {
		if err := g.mu.st.SetCheckpoint(g.def.name, p, next-1); err != nil {
			return err
		}
	}
	if err := g.mu.st.Commit(ctx); err != nil {
		return fmt.Errorf("runtime: checkpoint global store %s: %w", g.def.name, err)
	}
	g.mu.dirty = false
	return nil
}

func (g *globalStore) get(key []byte) ([]byte, int64, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.kv.Get(key)
}

// globals are the open global stores of an application instance.
type globals struct {
	byName  map[string]*globalStore
	byTopic map[string]*globalStore
}

// globalTaskID is the state task holding global store name: one unlogged store, and its
// checkpoint, the offset of the last record applied of each partition of the topic.
func globalTaskID(name string) string { return "global-" + name }

// openGlobals opens the topology's global stores on db with what they held, nil if it has none.
// A store that does not open cleanly is dropped and opened empty. The TestDriver opens them on an
// empty in-memory db and never checkpoints; an App reconciles their checkpoints with the topics
// (startGlobals).
func openGlobals(ctx context.Context, t *Topology, db *state.DB, appID string, logger *slog.Logger) (*globals, error) {
	if len(t.globals) == 0 {
		return nil, nil
	}
	gs := &globals{byName: map[string]*globalStore{}, byTopic: map[string]*globalStore{}}
	for _, def := range t.globals {
		g := &globalStore{def: def}
		err := g.open(ctx, db, appID)
		if err != nil {
			logger.Warn("runtime: global store does not open; rebuilding it", "store", def.name, "err", err)
			err = g.reset(ctx, db, appID)
		}
		if err != nil {
			gs.close()
			return nil, err
		}
		gs.byName[def.name] = g
		gs.byTopic[def.topic] = g
	}
	return gs, nil
}

// open opens the store's task and store as they were left, and reads its checkpoint into next.
func (g *globalStore) open(ctx context.Context, db *state.DB, appID string) error {
	st, err := db.OpenTask(appID, globalTaskID(g.def.name), 0)
	if err != nil {
		return err
	}
	kv, err := st.TimestampedKeyValueStore(ctx, g.def.name, state.WithoutLogging())
	if err != nil {
		st.Close()
		return err
	}
	cps, err := st.Checkpoints(g.def.name)
	if err != nil {
		st.Close()
		return err
	}
	g.mu.st, g.mu.kv, g.mu.next, g.mu.dirty = st, kv, map[int32]int64{}, false
	for p, off := range cps {
		g.mu.next[p] = off + 1
	}
	return nil
}

// reset drops the store, data and checkpoint, and opens it empty: it is then rebuilt from the
// beginning of the topic.
func (g *globalStore) reset(ctx context.Context, db *state.DB, appID string) error {
	if g.mu.st != nil {
		g.mu.st.Close()
		g.mu.st = nil
	}
	if err := db.DropTask(appID, globalTaskID(g.def.name)); err != nil {
		return err
	}
	return g.open(ctx, db, appID)
}

func (gs *globals) topics() []string {
	if gs == nil {
		return nil
	}
	var out []string
	for topic := range gs.byTopic {
		out = append(out, topic)
	}
	slices.Sort(out)
	return out
}

func (gs *globals) forTopic(topic string) *globalStore {
	if gs == nil {
		return nil
	}
	return gs.byTopic[topic]
}

// checkpoint checkpoints every global store (globalStore.checkpoint).
func (gs *globals) checkpoint(ctx context.Context) error {
	if gs == nil {
		return nil
	}
	var errs []error
	for _, g := range gs.byName {
		errs = append(errs, g.checkpoint(ctx))
	}
	return errors.Join(errs...)
}

// close closes every global store without checkpointing; the stores are no longer readable.
func (gs *globals) close() error {
	if gs == nil {
		return nil
	}
	var errs []error
	for _, g := range gs.byName {
		g.mu.Lock()
		if g.mu.st != nil {
			errs = append(errs, g.mu.st.Close())
		}
		g.mu.Unlock()
	}
	return errors.Join(errs...)
}

// GlobalStore is a read-only typed view of a global store. It is safe for concurrent use: tasks
// on every stream thread read the same store while the global consumer updates it.
type GlobalStore[K, V any] struct {
	g      *globalStore
	keys   serde.Serde[K]
	values serde.Serde[V]
}

// Get returns key's value and its timestamp, ok false if the store has no value for key.
func (s GlobalStore[K, V]) Get(key K) (v V, ts int64, ok bool, err error) {
	kb, err := s.keys.Serialize(key)
	if err != nil {
		return v, 0, false, err
	}
	vb, ts, ok, err := s.g.get(kb)
	if err != nil || !ok {
		return v, 0, false, err
	}
	v, err = s.values.Deserialize(vb)
	return v, ts, err == nil, err
}

// globalsHolder is implemented by the runtime's processor contexts.
type globalsHolder interface{ globalStores() *globals }

func (n *processorNode[KIn, VIn, KOut, VOut]) globalStores() *globals { return n.t.sh.globals }

// GetGlobalStore returns a typed view of the global store name (AddGlobalStore). A global store
// needs no ConnectStores: every processor may read it.
func GetGlobalStore[K, V any](ctx Context, name string, keys serde.Serde[K], values serde.Serde[V]) (GlobalStore[K, V], error) {
	h, ok := ctx.(globalsHolder)
	if !ok {
		return GlobalStore[K, V]{}, fmt.Errorf("runtime: context %T has no global stores", ctx)
	}
	gs := h.globalStores()
	if gs == nil || gs.byName[name] == nil {
		return GlobalStore[K, V]{}, fmt.Errorf("runtime: no global store %s (AddGlobalStore)", name)
	}
	return GlobalStore[K, V]{g: gs.byName[name], keys: keys, values: values}, nil
}
