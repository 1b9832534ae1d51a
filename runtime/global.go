package runtime

import (
	"context"
	"errors"
	"fmt"
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
}

// globalDef is a global store as built.
type globalDef struct {
	name, topic string
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
	for _, g := range t.globals {
		switch {
		case g.name == name:
			t.fail("global store %s is already added", name)
			return
		case g.topic == spec.Topic:
			t.fail("topic %s is already read by global store %s", spec.Topic, g.name)
			return
		}
	}
	for _, n := range t.nodes {
		if n.kind == sourceKind && slices.Contains(n.topics, spec.Topic) {
			t.fail("topic %s of global store %s is already read by source %s", spec.Topic, name, n.name)
			return
		}
	}
	keys, values := spec.Keys, spec.Values
	t.globals = append(t.globals, &globalDef{name: name, topic: spec.Topic, decode: func(kb, vb []byte) (bool, bool, error) {
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
	}
}

// apply writes the records of the store's topic and commits them, so readers never see a partly
// applied batch. Records are stored as they are in the topic; a record that does not deserialize
// goes to the deserialization error handler.
func (g *globalStore) apply(ctx context.Context, sh *shared, recs []*kgo.Record) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range recs {
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
	return g.mu.st.Commit(ctx)
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

// globalTaskID is the state task holding global store name. Its data is rebuilt from the topic on
// every start (there is no checkpoint yet), so it is dropped before it is opened.
func globalTaskID(name string) string { return "global-" + name }

// openGlobals opens the topology's global stores on db, empty; nil if it has none.
func openGlobals(ctx context.Context, t *Topology, db *state.DB, appID string) (*globals, error) {
	if len(t.globals) == 0 {
		return nil, nil
	}
	gs := &globals{byName: map[string]*globalStore{}, byTopic: map[string]*globalStore{}}
	for _, def := range t.globals {
		id := globalTaskID(def.name)
		if err := db.DropTask(appID, id); err != nil {
			gs.close()
			return nil, err
		}
		st, err := db.OpenTask(appID, id, 0)
		if err != nil {
			gs.close()
			return nil, err
		}
		kv, err := st.TimestampedKeyValueStore(ctx, def.name, state.WithoutLogging())
		if err != nil {
			st.Close()
			gs.close()
			return nil, err
		}
		g := &globalStore{def: def}
		g.mu.st, g.mu.kv = st, kv
		gs.byName[def.name] = g
		gs.byTopic[def.topic] = g
	}
	return gs, nil
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

// close closes every global store; the stores are no longer readable.
func (gs *globals) close() error {
	if gs == nil {
		return nil
	}
	var errs []error
	for _, g := range gs.byName {
		g.mu.Lock()
		errs = append(errs, g.mu.st.Close())
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
