package dsl

import (
	"errors"
	"fmt"

	"github.com/seichedb/seiche/runtime"
)

// Builder builds a topology from streams and tables: Kafka Streams' StreamsBuilder. Operations add
// their nodes to the builder as they are called; Build returns the runtime topology. A Builder is
// not safe for concurrent use.
type Builder struct {
	topo  *runtime.Topology
	index int
	err   error
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{topo: runtime.NewTopology()} }

// Build returns the topology, or the first mistake made while building it (a missing serde, a
// duplicate name, a mismatched option).
func (b *Builder) Build() (*runtime.Topology, error) {
	return b.topo, errors.Join(b.err, b.topo.Err())
}

// AddStateStore adds a store for Process operations to connect to (WithStores).
func (b *Builder) AddStateStore(sb runtime.StoreBuilder) { b.topo.AddStateStore(sb) }

func (b *Builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("dsl: "+format, args...)
	}
}

// newName returns prefix followed by the next index, as Kafka Streams names nodes
// (KSTREAM-FILTER-0000000001).
func (b *Builder) newName(prefix string) string {
	name := fmt.Sprintf("%s%010d", prefix, b.index)
	b.index++
	return name
}

// nameOr returns the Named option's name, or a generated one.
func (b *Builder) nameOr(c opConfig, prefix string) string {
	if c.name != "" {
		return c.name
	}
	return b.newName(prefix)
}
