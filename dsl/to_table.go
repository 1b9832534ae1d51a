package dsl

// ToTable reads the stream as a table (KSTREAM-TOTABLE): each record is the key's new value, a nil
// value deletes it. The table is materialized in a store named by Materialized or
// "KSTREAM-TOTABLE-STATE-STORE-<n>", which needs the stream's serdes (or WithKeySerde and
// WithValueSerde).
func (s *Stream[K, V]) ToTable(opts ...Opt) *Table[K, V] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-TOTABLE-")
	store := c.store
	if store == "" {
		store = s.b.newName("KSTREAM-TOTABLE-STATE-STORE-")
	}
	keys, values, ok := s.sinkSerdes("to table "+name, c)
	if !ok {
		return &Table[K, V]{b: s.b, node: s.node}
	}
	return materialize(s.b, name, s.node, store, keys, values)
}
