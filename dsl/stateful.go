package dsl

import (
	"context"
	"time"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/state"
)

// DefaultCacheBytes is the record cache in front of each aggregation's store unless CacheBytes
// says otherwise: Kafka Streams' default cache.max.bytes.buffering. Updates to a key coalesce in the
// cache and reach downstream when the task commits (or the cache evicts), as in Kafka Streams.
const DefaultCacheBytes = 10 << 20

// flushSlot is where a store's flush listener forwards to. The runtime opens stores before it
// initializes processors, so the listener the store is opened with calls the slot, which the
// processor owning the store fills in at Init.
type flushSlot struct{ fn state.FlushListener }

func (s *flushSlot) call(c state.Change) error {
	if s.fn == nil {
		return nil
	}
	return s.fn(c)
}

type slotted interface{ flushSlot() *flushSlot }

type slottedKV struct {
	state.KeyValueStore
	slot *flushSlot
}

type slottedTSKV struct {
	state.TimestampedKeyValueStore
	slot *flushSlot
}

type slottedWindow struct {
	state.WindowStore
	slot *flushSlot
}

type slottedSession struct {
	state.SessionStore
	slot *flushSlot
}

func (s slottedKV) flushSlot() *flushSlot      { return s.slot }
func (s slottedTSKV) flushSlot() *flushSlot    { return s.slot }
func (s slottedWindow) flushSlot() *flushSlot  { return s.slot }
func (s slottedSession) flushSlot() *flushSlot { return s.slot }

// storeKind selects what dslStore opens.
type storeKind int

const (
	kvKind storeKind = iota
	tsKVKind
	windowKind
	sessionKind
)

// dslStore is the runtime.StoreBuilder of every store the dsl adds. With listen, the store is
// opened with a flush listener (and old values): the owning processor forwards what leaves the
// cache, which is how Kafka Streams' caching stores forward (TimestampedCacheFlushListener).
type dslStore struct {
	name      string
	kind      storeKind
	listen    bool
	cache     int64
	size      time.Duration // window stores
	retention time.Duration // window and session stores
	dups      bool
	unlogged  bool
}

func (s dslStore) Name() string { return s.name }

func (s dslStore) Open(ctx context.Context, t *state.Task) (state.Store, error) {
	var opts []state.StoreOpt
	var slot *flushSlot
	if s.listen {
		slot = &flushSlot{}
		opts = append(opts, state.OnFlush(slot.call))
		// Old values let a downstream table filter (a HAVING) delete what it passed before.
		opts = append(opts, state.SendOldValues())
	}
	if s.cache > 0 {
		opts = append(opts, state.Caching(s.cache))
	}
	if s.dups {
		opts = append(opts, state.RetainDuplicates())
	}
	if s.unlogged {
		opts = append(opts, state.WithoutLogging())
	}
	switch s.kind {
	case kvKind:
		st, err := t.KeyValueStore(ctx, s.name, opts...)
		if err != nil {
			return nil, err
		}
		return slottedKV{st, slot}, nil
	case tsKVKind:
		st, err := t.TimestampedKeyValueStore(ctx, s.name, opts...)
		if err != nil {
			return nil, err
		}
		return slottedTSKV{st, slot}, nil
	case windowKind:
		st, err := t.WindowStore(ctx, s.name, s.size, s.retention, opts...)
		if err != nil {
			return nil, err
		}
		return slottedWindow{st, slot}, nil
	default:
		st, err := t.SessionStore(ctx, s.name, s.retention, opts...)
		if err != nil {
			return nil, err
		}
		return slottedSession{st, slot}, nil
	}
}

// listenTo makes fn the flush listener of the store name connected to the processor of ctx.
func listenTo(ctx runtime.Context, name string, fn state.FlushListener) (state.Store, error) {
	s, err := ctx.StateStore(name)
	if err != nil {
		return nil, err
	}
	if sl, ok := s.(slotted); ok && sl.flushSlot() != nil {
		sl.flushSlot().fn = fn
	}
	return s, nil
}

// storeName returns the Materialized name or a generated "<prefix>STATE-STORE-<n>".
func (b *Builder) storeName(c opConfig, prefix string) string {
	if c.store != "" {
		return c.store
	}
	return b.newName(prefix + "STATE-STORE-")
}

// copartition declares the sources every node in nodes reads from as co-partitioned.
func (b *Builder) copartition(nodes ...string) {
	var sources []string
	for _, n := range nodes {
		sources = append(sources, b.topo.SourcesOf(n)...)
	}
	if len(sources) > 1 {
		b.topo.CopartitionSources(sources...)
	}
}
