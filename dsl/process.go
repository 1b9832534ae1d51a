package dsl

import "github.com/seichedb/seiche/runtime"

// Process runs a custom processor over the stream (KSTREAM-PROCESSOR): the low-level Processor API,
// with store access through its context (runtime.GetKeyValueStore) for stores added with
// Builder.AddStateStore and connected with WithStores. The processor forwards records of type
// Record[KR, VR]; serdes for them come from WithKeySerde and WithValueSerde. The key is assumed
// changed unless PreservesKey says otherwise.
func Process[K, V, KR, VR any](s *Stream[K, V], supplier runtime.ProcessorSupplier[K, V, KR, VR], opts ...Opt) *Stream[KR, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-PROCESSOR-")
	addProcessor(s.b, name, supplier, s.node)
	if len(c.stores) > 0 {
		s.b.topo.ConnectStores(name, c.stores...)
	}
	return &Stream[KR, VR]{
		b:          s.b,
		node:       name,
		keys:       serdeOr(s.b, name, c.keySerde, nilSerde[KR]()),
		values:     serdeOr(s.b, name, c.valueSerde, nilSerde[VR]()),
		keyChanged: s.keyChanged || !c.preservesKey,
	}
}
