package dsl

// ToTable reads the stream as a table (KSTREAM-TOTABLE): each record is the key's new value, a nil
// value deletes it. The table is materialized, with the stream's serdes, in a store named by
// Materialized or "KSTREAM-TOTABLE-STATE-STORE-<n>".
func (s *Stream[K, V]) ToTable(opts ...TableOpt) *Table[K, V] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-TOTABLE-")
	store := c.store
	if store == "" {
		store = s.b.newName("KSTREAM-TOTABLE-STATE-STORE-")
	}
	if !s.hasSerdes("to table " + name) {
		return &Table[K, V]{b: s.b, node: s.node}
	}
	return materialize(s.b, name, s.node, store, s.keys, s.values)
}
