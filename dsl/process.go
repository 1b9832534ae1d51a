package dsl

import "github.com/seichedb/seiche/runtime"

// Process runs a custom processor over the stream (KSTREAM-PROCESSOR): the low-level Processor API,
// with store access through its context (runtime.GetKeyValueStore) for stores added with
// Builder.AddStateStore and connected with WithStores. The processor forwards records of type
// Record[KR, VR]; the result has no serdes (give them with WithKeySerde and WithValueSerde). The
// key is assumed changed unless PreservesKey says otherwise.
func Process[K, V, KR, VR any](s *Stream[K, V], supplier runtime.ProcessorSupplier[K, V, KR, VR], opts ...ProcessOpt) *Stream[KR, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-PROCESSOR-")
	addProcessor(s.b, name, supplier, s.node)
	if len(c.stores) > 0 {
		s.b.topo.ConnectStores(name, c.stores...)
	}
	return &Stream[KR, VR]{b: s.b, node: name, keyChanged: s.keyChanged || !c.preservesKey}
}
