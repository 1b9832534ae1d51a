// Package planner turns an analyzed query (package ir: the analyzer's output) into a logical plan and
// lowers that plan onto a dsl.Builder, with sql rows (types.Row) as keys and values:
//
//	ir.Query (+ sink ir.Source) ─▶ Build / BuildTransient ─▶ *Plan (a chain of logical nodes) ─▶ Lower ─▶ dsl graph
//
// It reads only the IR: names are resolved, expressions compiled (ir.Expr) and texts for messages
// formatted by the analyzer. It never imports the parser nor looks at an AST, and it decides nothing
// ksqlDB decides at analysis: a query that reaches Build has passed every semantic check, and Build
// refuses only what Seiche cannot lower yet.
//
// The logical nodes are, in the order a plan chains them (one file per node, node_*.go, each with its
// lowering):
//
//	Source         deserialize a topic into Input rows with the pseudo-columns (a table is materialized)
//	Join           one per JOIN: stream-stream within a window, stream-table, table-table on the
//	               primary key or a foreign key
//	Filter         WHERE
//	TableFunction  EXPLODE, CUBE_EXPLODE: one row per produced value
//	Aggregate      GROUP BY over a stream or a table, optionally TUMBLING, HOPPING or SESSION windowed
//	Having         HAVING, a failing group becoming a delete
//	Suppress       EMIT FINAL: a window's result when the window closes
//	Project        the projection, split into the output key and value; PARTITION BY is this re-keying
//	Sink           serialize with the sink's formats (stamping a sink TIMESTAMP column), or
//	Emit           hand each row to a transient push query's callback
//
// Several queries may lower onto one Builder (a QTT case or a script runs all its queries in one
// topology): an Env shares one raw source node per topic, so that two sources over one topic, or a
// query reading the output of another, work as they do with separate ksqlDB queries.
//
// Bad records never stop a query: a record that does not deserialize, or whose WHERE, GROUP BY or
// join key evaluation fails, is dropped and reported as a processing error (the runtime's processing
// log), as ksqlDB does. A projected column whose expression fails is NULL and the failure is logged,
// the record kept, as ksqlDB's SelectValueMapper does; a failing PARTITION BY expression so gives a
// NULL key.
//
// A query over one stream builds only the columns of the source it reads (ir.QuerySource.Reads, which
// the analyzer records from the compiled expressions), the TIMESTAMP column and the window bounds;
// the value format checks the others without building them (format.Options.Unread), so a record
// fails, and is logged, exactly as if every column were read. The others are NULL in the Input row,
// which nothing but the query's own expressions reads. Tables and joins decode every column.
//
// # Internal formats
//
// Sources and sinks keep the formats their statements declare, byte for byte. What only Seiche reads
// back — repartition topics, state stores and their changelogs, which a restarted application
// restores from — holds rows in a binary encoding driven by the columns' SQL types (rowcodec.go):
//
//	row   = 0x01 (version), uvarint(number of columns), value per column
//	value = 0x00                       NULL
//	      | 0x01 payload               the value in its column type's encoding:
//	                                   BOOLEAN 1 byte; INT, BIGINT, DATE, TIME, TIMESTAMP zigzag varint;
//	                                   DOUBLE 8 bytes little-endian IEEE 754; DECIMAL and STRING
//	                                   uvarint length + text (DECIMAL as plain digits); BYTES uvarint
//	                                   length + bytes; ARRAY uvarint count + values; MAP uvarint count +
//	                                   key, value pairs in map order; STRUCT one value per field
//	      | 0x02 uvarint(length) JSON  a value whose Go type is not its column's, as the JSON format
//	                                   writes it; read back with the JSON format's conversions
//
// Equal values encode to equal bytes (an INT in a BIGINT column is widened first), so an encoded
// GROUP BY key identifies its group. A row whose first byte is '{' is read as the wrapped JSON
// (fields C0, C1, ...) these topics and stores held before the binary encoding, so old records still
// decode; but a store keyed by old JSON keys is not found under the new key bytes, so an application
// whose state predates the encoding starts its aggregations afresh (reset it, or use a new application
// id). A change of the column count is an error, not a silent misread.
//
// An aggregation sends only what it needs through its repartition topic, as ksqlDB's pre-aggregation
// selection does: the GROUP BY values as key, the aggregate calls' argument values as value.
//
// Not yet lowered (Build returns an Unsupported error): PARTITION BY over a table, table functions over
// a table.
package planner
