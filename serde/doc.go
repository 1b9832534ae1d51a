// Package serde converts typed keys and values to and from the bytes of Kafka records.
//
// It is a top-level package because three layers share it: the runtime deserializes source records
// and serializes sink records with it, the dsl carries a key and a value Serde on every stream and
// table, and the state package's typed store views take it. It is Seiche's one serde abstraction for
// typed Go values.
//
// sql/format has serdes of its own, format.Serde, for a different job: they convert between bytes
// and untyped SQL rows ([]types.Value) of a list of columns, in the formats ksqlDB names (KAFKA,
// JSON, DELIMITED, NONE), chosen at run time from a statement's WITH clause. They are not generic
// because a row's Go type is the same whatever its columns; the SQL planner wraps one in a
// Serde[types.Row] where it hands rows to the dsl.
//
// # Null
//
// Kafka records have nullable keys and values; Go values of most types do not. A Serde decides what
// a null (nil bytes) means for its type: Bytes gives nil, JSON of a pointer, slice, map or interface
// type gives nil, and every other built-in gives the zero value. Serialize of a nil pointer, slice,
// map or interface gives nil bytes (a null), so a tombstone round-trips for those types.
//
// The byte formats are Kafka's: String is UTF-8, Int32 and Int64 are big-endian two's complement
// (Kafka's IntegerSerializer and LongSerializer), Float64 is big-endian IEEE 754 (DoubleSerializer),
// and JSON is encoding/json.
//
// # What it never does
//
// A Serde never panics on bad input: a malformed payload is an error, which the runtime hands to the
// application's deserialization error handler.
package serde
